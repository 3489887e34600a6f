"""A LabelledEvaluation as text (the terminal), JSON-ready values, and one self-contained HTML page holding
the headline figures, both pictures (embedded PNG) and the tables."""

from __future__ import annotations

import base64
import html
import os

from engine.evaluation.coco_eval import SIZE_UNIT, bin_label
from engine.evaluation.labelled_scoring import LabelledEvaluation
from engine.outputs.formatting import fixed, json_ready


def headline(evaluation: LabelledEvaluation) -> dict[str, float | int]:
    """The figures a user looks at first (and the Processing algorithm's outputs)."""
    point, det = evaluation.operating, evaluation.report.detection
    return {
        "ap50": det.ap50, "recall": point.recall, "precision": point.precision, "f1": point.f1,
        "tp": point.tp, "fp": point.fp, "fn": point.fn, "references": det.n_gt,
        "score_threshold": point.score_threshold, "iou_threshold": point.iou_threshold,
    }


def set_rows(evaluation: LabelledEvaluation) -> list[dict]:
    """One row per set (raster, image or detection layer) at the operating point."""
    rows = []
    for box_set, errors in zip(evaluation.sets, evaluation.errors, strict=True):
        p = errors.point
        rows.append({"name": box_set.name, "references": len(box_set.truth_ids), "detections": p.tp + p.fp,
                     "tp": p.tp, "fp": p.fp, "fn": p.fn, "recall": p.recall, "precision": p.precision})
    return rows


def to_text(evaluation: LabelledEvaluation) -> str:
    """The report of `r2cnn evaluate`, then the operating point and the per-raster table."""
    h = headline(evaluation)
    lines = [
        evaluation.report.to_text(),
        "",
        f"operating point (score >= {h['score_threshold']:g}, IoU >= {h['iou_threshold']:g}, one to one): "
        f"recall {fixed(h['recall'])}, precision {fixed(h['precision'])}, F1 {fixed(h['f1'])} "
        f"(TP {h['tp']}, FP {h['fp']}, FN {h['fn']})",
        "",
        f"{evaluation.set_kind[:28]:<28} {'refs':>6} {'found':>6} {'TP':>5} {'FP':>5} {'FN':>5} {'recall':>7} "
        f"{'precision':>9}",
    ]
    for row in set_rows(evaluation):
        lines.append(
            f"{row['name'][:28]:<28} {row['references']:>6d} {row['detections']:>6d} {row['tp']:>5d} {row['fp']:>5d} "
            f"{row['fn']:>5d} {fixed(row['recall'], 3):>7} {fixed(row['precision'], 3):>9}"
        )
    return "\n".join(lines + [f"warning: {note}" for note in evaluation.notes])


def to_dict(evaluation: LabelledEvaluation) -> dict:
    """JSON-ready (nan as None)."""
    return json_ready({
        "data": evaluation.source,
        "detections": evaluation.detections,
        "headline": headline(evaluation),
        "rasters": set_rows(evaluation),
        "notes": list(evaluation.notes),
        **evaluation.report.to_dict(),
    })


def to_html(evaluation: LabelledEvaluation, pictures: dict[str, bytes]) -> str:
    """One page: inputs, headline, pictures (PNG embedded as data URIs), threshold, raster and size-bin tables."""
    h, det, coco = headline(evaluation), evaluation.report.detection, evaluation.report.coco
    figures = "".join(
        f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
        f"</figure>" for name, png in pictures.items()
    ) or "<p>(no pictures: matplotlib is not installed in this Python)</p>"
    cards = "".join(
        f'<div class="card"><b>{label}</b><span>{value}</span></div>'
        for label, value in (("AP50", fixed(h["ap50"], 3)), ("Recall", fixed(h["recall"], 3)),
                             ("Precision", fixed(h["precision"], 3)), ("F1", fixed(h["f1"], 3)),
                             ("TP / FP / FN", f"{h['tp']} / {h['fp']} / {h['fn']}"))
    )
    thresholds = _table(("score", "TP", "FP", "FN", "recall", "precision"), [
        (f"{r.score_threshold:.2f}", r.tp, r.fp, r.fn, fixed(r.recall), fixed(r.precision)) for r in det.rows
    ])
    rasters = _table((evaluation.set_kind, "references", "detections", "TP", "FP", "FN", "recall", "precision"), [
        (r["name"], r["references"], r["detections"], r["tp"], r["fp"], r["fn"], fixed(r["recall"], 3),
         fixed(r["precision"], 3)) for r in set_rows(evaluation)
    ])
    bins = "" if coco is None else f"<h2>AI-TOD size bins (COCO, pycocotools)</h2><p>{SIZE_UNIT}.</p>" + _table(
        ("bin", "references", "AP", "AP50"),
        [(bin_label(label), coco.gt_counts[label], fixed(ap, 3), fixed(coco.ap50[label], 3))
         for label, ap in coco.ap.items()],
    )
    notes = "".join(f"<li>{html.escape(note)}</li>" for note in evaluation.notes)
    return _PAGE.format(
        title=html.escape(f"Aircraft detection evaluation: {os.path.basename(evaluation.detections)}"),
        data=html.escape(evaluation.source), detections=html.escape(evaluation.detections),
        rule=html.escape(f"a detection scoring >= {h['score_threshold']:g} is a true positive when its IoU with an "
                         f"unmatched reference is >= {h['iou_threshold']:g} (one to one, highest scores first)"),
        cards=cards, figures=figures, thresholds=thresholds, rasters=rasters, bins=bins,
        per_set=html.escape(f"Per {evaluation.set_kind} at the operating point"),
        report=html.escape(evaluation.report.to_text()),
        notes=f"<h2>Warnings</h2><ul>{notes}</ul>" if notes else "",
    )


def _table(header: tuple, rows: list[tuple]) -> str:
    """An HTML table, every cell escaped."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; color: #222; max-width: 84em; }}
.cards {{ display: flex; gap: 1em; flex-wrap: wrap; }}
.card {{ border: 1px solid #ccc; border-radius: 6px; padding: 0.6em 1em; min-width: 7em; }}
.card b {{ display: block; font-size: 0.8em; color: #555; }} .card span {{ font-size: 1.5em; }}
figure {{ display: inline-block; vertical-align: top; margin: 0.4em; }} img {{ max-width: 100%; }}
table {{ border-collapse: collapse; margin: 0.5em 0; }}
th, td {{ border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }} pre {{ background: #f6f6f6; padding: 0.8em; }}
</style></head><body>
<h1>{title}</h1>
<p><b>Data:</b> {data}<br><b>Detections:</b> {detections}<br><b>Rule:</b> {rule}</p>
<div class="cards">{cards}</div>
<div class="figures">{figures}</div>
<h2>Recall and precision per score threshold</h2>{thresholds}
<h2>{per_set}</h2>{rasters}
{bins}
{notes}
<h2>Full text report</h2><pre>{report}</pre>
</body></html>
"""
