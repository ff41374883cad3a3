"""The OpenAPI 3.0 document of the JSON API (kept beside the routes; a test checks they agree)."""
from __future__ import annotations

_ERROR = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_NUM = {"type": "number", "nullable": True}
_MARK_MAP = {"type": "object", "additionalProperties": _NUM}


def _ok(schema_ref: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


def document(server_url: str = "") -> dict:
    gene = {"type": "object", "required": ["gene_id", "symbol", "chrom", "tss", "strand"], "properties": {
        "gene_id": {"type": "string"}, "symbol": {"type": "string"}, "chrom": {"type": "string"},
        "tss": {"type": "integer", "description": "0-based TSS position"}, "strand": {"type": "string", "enum": ["+", "-", "."]}}}
    per_epigenome = {"type": "object", "properties": {
        "epigenome": {"type": "string"}, "tissue": {"type": "string"},
        "split": {"type": "integer", "description": "the split whose model made the prediction"},
        "part": {"type": "string", "enum": ["train", "validation", "test", "none"]},
        "features": _MARK_MAP, "weights": _MARK_MAP, "contributions": _MARK_MAP, "bias": _NUM, "logit": _NUM,
        "probability": _NUM, "predicted": {"type": "string", "enum": ["ON", "OFF"]}, "rpkm": _NUM,
        "label": {"type": "string", "enum": ["ON", "OFF"], "nullable": True}, "p_values": _MARK_MAP,
        "significant": {"type": "object", "additionalProperties": {"type": "boolean"}},
        "chromhmm_state": {"type": "string"}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "ShallowChrome API", "version": "1",
                 "description": "Per-epigenome ShallowChrome models and per-gene predictions with per-mark contributions."},
        "servers": [{"url": server_url}] if server_url else [],
        "paths": {
            "/api/epigenomes": {"get": {"summary": "Epigenomes with status, marks and test metrics",
                                        "responses": {"200": _ok("EpigenomeList", "epigenomes")}}},
            "/api/epigenomes/{eid}/model": {"get": {
                "summary": "The fitted model of an epigenome (model.json)",
                "parameters": [{"name": "eid", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "model", "content": {"application/json": {"schema": {"type": "object"}}}},
                              "404": _ERROR}}},
            "/api/genes": {"get": {
                "summary": "Genes whose symbol or Ensembl id starts with q",
                "parameters": [{"name": "q", "in": "query", "required": True, "schema": {"type": "string", "minLength": 1}},
                               {"name": "limit", "in": "query", "required": False,
                                "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}}],
                "responses": {"200": _ok("GeneList", "matching genes"), "400": _ERROR}}},
            "/api/genes/{query}": {"get": {
                "summary": "Predictions and explanations of a gene in every epigenome",
                "parameters": [{"name": "query", "in": "path", "required": True, "schema": {"type": "string"},
                                "description": "gene symbol or Ensembl id (case-insensitive)"}],
                "responses": {"200": _ok("GeneDetail", "the gene(s) matching the query"), "404": _ERROR}}},
            "/api/locus": {"get": {
                "summary": "igv.js search service: TSS window of a gene",
                "parameters": [{"name": "q", "in": "query", "required": True, "schema": {"type": "string", "minLength": 1}},
                               {"name": "missing", "in": "query", "required": False,
                                "description": "empty: an unknown gene answers 200 [] instead of 404 (igv.js)",
                                "schema": {"type": "string", "enum": ["empty"]}}],
                "responses": {"200": {"description": "loci", "content": {"application/json": {"schema": {
                    "type": "array", "items": {"type": "object"}}}}}, "400": _ERROR, "404": _ERROR}}},
            "/api/compare": {"get": {
                "summary": "Two epigenomes compared: genes ranked by the difference of their predicted logits",
                "description": "Every gene is ranked by delta logit = logit(a) - logit(b), read from the two epigenomes' "
                               "predictions; the difference is attributed to one term per mark (psi_a - psi_b; a mark "
                               "of one model only contributes that model's own psi, listed in marks.only_a / only_b) "
                               "plus the bias, so the terms add up to delta logit. The full table: /compare.tsv?a=&b=.",
                "parameters": [{"name": "a", "in": "query", "required": True, "schema": {"type": "string", "minLength": 1},
                                "description": "epigenome A (a fitted epigenome id, e.g. E066)"},
                               {"name": "b", "in": "query", "required": True, "schema": {"type": "string", "minLength": 1},
                                "description": "epigenome B, different from A"},
                               {"name": "limit", "in": "query", "required": False,
                                "description": "genes returned each way (more ON in A, more ON in B)",
                                "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10}}],
                "responses": {"200": _ok("Comparison", "the comparison"), "400": _ERROR}}},
            "/api/openapi.json": {"get": {"summary": "This document",
                                          "responses": {"200": {"description": "OpenAPI document",
                                                                "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        },
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "properties": {
                "status": {"type": "integer"}, "message": {"type": "string"},
                "suggestions": {"type": "array", "items": {"type": "string"}}}}}},
            "Gene": gene,
            "GeneList": {"type": "object", "properties": {"query": {"type": "string"},
                                                          "genes": {"type": "array", "items": {"$ref": "#/components/schemas/Gene"}}}},
            "GeneDetail": {"type": "object", "properties": {"query": {"type": "string"}, "matches": {"type": "array", "items": {
                "type": "object", "properties": {"gene": {"$ref": "#/components/schemas/Gene"}, "locus": {"type": "string"},
                                                 "epigenomes": {"type": "array", "items": per_epigenome}}}}}},
            "Comparison": _comparison_schema(),
            "EpigenomeList": {"type": "object", "properties": {"epigenomes": {"type": "array", "items": {
                "type": "object", "required": ["id", "status"], "properties": {
                    "id": {"type": "string"}, "tissue": {"type": "string"}, "status": {"type": "string", "enum": ["ok", "skipped"]},
                    "marks": {"type": "array", "items": {"type": "string"}}, "configuration": {"type": "string"},
                    "auroc": {"type": "object"}, "aupr": {"type": "object"}, "f1": {"type": "object"},
                    "deepchrome_auroc": _NUM, "n_genes": {"type": "integer"}, "reason": {"type": "string"}}}}}},
        }},
    }


def _comparison_schema() -> dict:
    """``/api/compare``'s answer (see :meth:`shallowchrome.tracks.analysis.compare.Comparison.document`)."""
    text = {"type": "string", "nullable": True}
    cls = {"type": "string", "enum": ["ON", "OFF"], "nullable": True}
    side = {"type": "object", "properties": {"epigenome": {"type": "string"}, "tissue": {"type": "string"},
                                             "marks": {"type": "array", "items": {"type": "string"}}}}
    gene_side = {"type": "object", "properties": {
        "epigenome": {"type": "string"}, "logit": _NUM, "probability": _NUM, "predicted": cls,
        "measured": {**cls, "description": "the measured class (label); null without expression"}, "rpkm": _NUM,
        "part": text}}
    gene = {"type": "object", "properties": {
        "rank": {"type": "integer", "nullable": True, "description": "1 = largest delta logit"},
        "n_genes": {"type": "integer"}, "gene": {"$ref": "#/components/schemas/Gene"},
        "delta_logit": _NUM,
        "attribution": {**_MARK_MAP, "description": "term per mark and 'bias'; they add up to delta_logit"},
        "driver": {**text, "description": "the term moving the logit most in the direction of delta_logit"},
        "a": gene_side, "b": gene_side,
        "delta_log2_rpkm": {**_NUM, "description": "log2(RPKM_a + 1) - log2(RPKM_b + 1); null without both"}}}
    pair = {"type": "object", "properties": {"on_in_a_off_in_b": {"type": "integer"},
                                             "off_in_a_on_in_b": {"type": "integer"}}}
    return {"type": "object", "properties": {
        "limit": {"type": "integer"}, "a": side, "b": side,
        "marks": {"type": "object", "properties": {
            "common": {"type": "array", "items": {"type": "string"}},
            "only_a": {"type": "array", "items": {"type": "string"}},
            "only_b": {"type": "array", "items": {"type": "string"}},
            "notes": {"type": "object", "additionalProperties": {"type": "string"}}}},
        "summary": {"type": "object", "properties": {
            "n_genes": {"type": "integer"}, "n_with_expression": {"type": "integer"}, "predicted": pair,
            "measured": pair, "mean_abs_term": _MARK_MAP, "pearson": _NUM, "spearman": _NUM}},
        "more_on_in_a": {"type": "array", "items": gene}, "more_on_in_b": {"type": "array", "items": gene}}}
