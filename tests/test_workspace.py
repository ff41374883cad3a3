"""Workspace reading and gene lookup."""
import pytest

from shallowchrome.model.errors import InputError
from shallowchrome.tracks.workspace.layout import UnknownGeneError, Workspace


@pytest.fixture(scope="module")
def ws(fixture_ws):
    """The session's read-only fixture workspace (conftest). These tests read its genes.tsv, which is the
    same whatever the splits (this module used to build with ``--splits 2`` and no splits file)."""
    return Workspace.open(fixture_ws)


def test_open_requires_a_workspace(tmp_path):
    with pytest.raises(InputError, match="is not a ShallowChrome workspace"):
        Workspace.open(tmp_path)


def test_find_gene_by_symbol_or_id_case_insensitive(ws):
    assert ws.find_gene("alb").gene_id.tolist() == ["ENSG00000900000"]
    assert ws.find_gene("ENSG00000900001.7").symbol.tolist() == ["MYOD1"]  # version suffix ignored
    assert ws.find_gene("ALB").row.tolist() == [0]


def test_unknown_gene_suggests_close_symbols(ws):
    with pytest.raises(UnknownGeneError) as err:
        ws.find_gene("MYOD")
    assert "MYOD1" in err.value.suggestions and "did you mean MYOD1" in str(err.value)


def test_prefix_suggestions(ws):
    got = ws.suggest_genes("gene2", limit=3).symbol.tolist()
    assert got[0] == "GENE2" and len(got) == 3 and all(s.startswith("GENE2") for s in got)
    assert ws.suggest_genes("").empty
