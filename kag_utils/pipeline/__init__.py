"""The machinery that computes, caches and records: project paths, the content-addressed run
cache, sweeps of cached kinds (in-process or on Dask), results files with provenance and the
notebook session."""
