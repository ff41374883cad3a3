"""A workspace is published whole: builds write a new generation and switch to it in one rename; a server
keeps answering the generation it has until the new one is complete, then switches by itself."""
from __future__ import annotations

import json
import threading
import urllib.request

from helpers import build_fixture, invoke

from shallowchrome.server.web.app import create_app
from shallowchrome.tracks.workspace.layout import Workspace, published_generation


def _epigenomes(client_or_base):
    if isinstance(client_or_base, str):
        with urllib.request.urlopen(f"{client_or_base}/api/epigenomes", timeout=30) as r:
            doc = json.loads(r.read())
    else:
        doc = client_or_base.get("/api/epigenomes").get_json()
    return [e["id"] for e in doc["epigenomes"]]


def test_build_publishes_a_generation_and_links_its_entries(tmp_path):
    out = build_fixture(tmp_path / "ws", "--epigenomes", "E901,E902")
    ws = Workspace.open(out)
    assert ws.generation == "g0001" and (out / "current").is_symlink()
    assert (out / "hub" / "hg19" / "E901" / "E901.predictions.bb").is_file()  # WS/hub -> current/hub
    build_fixture(out)
    assert Workspace.open(out).generation == "g0002"
    assert sorted(p.name for p in (out / ".generations").iterdir()) == ["g0001", "g0002"]  # the previous is kept
    build_fixture(out)
    assert sorted(p.name for p in (out / ".generations").iterdir()) == ["g0002", "g0003"]


def test_an_interrupted_first_build_leaves_no_workspace(tmp_path, monkeypatch):
    from shallowchrome.tracks.hub import write

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(write, "write_hub_text", interrupted)  # Ctrl-C while the tracks are written
    res = invoke("build", *_args(tmp_path / "ws"))
    assert res.exit_code == 130
    assert not (tmp_path / "ws" / "workspace.json").exists()
    assert "is not a ShallowChrome workspace" in invoke("serve", tmp_path / "ws").output
    monkeypatch.undo()
    assert invoke("build", *_args(tmp_path / "ws")).exit_code == 0  # the folder can be built into afterwards
    assert Workspace.open(tmp_path / "ws").generation is not None


def test_an_interrupted_rebuild_leaves_the_published_workspace_as_it_was(tmp_path, monkeypatch):
    from shallowchrome.tracks.hub import write

    out = build_fixture(tmp_path / "ws", "--epigenomes", "E901,E902")
    before = {p.relative_to(out): p.read_bytes() for p in Workspace.open(out).data.rglob("*") if p.is_file()}
    monkeypatch.setattr(write, "write_hub_text", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    assert invoke("build", *_args(out)).exit_code == 130
    ws = Workspace.open(out)
    assert ws.epigenomes() == ["E901", "E902"] and ws.generation == "g0001"
    after = {p.relative_to(out): p.read_bytes() for p in ws.data.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in (out / ".generations").iterdir()) == ["g0001"]  # the half-made one is gone


def test_the_server_serves_one_generation_during_a_rebuild_and_the_new_one_after(tmp_path, live_server):
    out = build_fixture(tmp_path / "ws", "--epigenomes", "E901,E902")
    app = create_app(out)
    base = live_server(app)
    old, new = ["E901", "E902"], ["E901", "E902", "E903"]
    seen, errors, done = [], [], threading.Event()

    def poll():
        while not done.is_set():
            try:
                seen.append(_epigenomes(base))
                with urllib.request.urlopen(f"{base}/hub/hub.txt", timeout=30) as r:
                    assert r.status == 200
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    threads = [threading.Thread(target=poll) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        build_fixture(out)  # rebuild into the served workspace
        after = _epigenomes(base)
    finally:
        done.set()
        for t in threads:
            t.join()
    assert not errors, errors[:3]
    assert seen and all(s in (old, new) for s in seen)  # never a mix, never an error
    assert after == new and app.extensions["shallowchrome"].reloads == 1
    # the new generation's numbers, for pages made after the switch too
    gene = urllib.request.urlopen(f"{base}/api/genes/GENE5", timeout=30).read()
    assert [e["epigenome"] for e in json.loads(gene)["matches"][0]["epigenomes"]] == new
    page = urllib.request.urlopen(f"{base}/reports/GENE5", timeout=60).read().decode()
    assert "E903" in page and "GENE5" in page


def test_commands_that_change_a_workspace_publish_a_new_generation(tmp_path):
    out = build_fixture(tmp_path / "ws")
    client = create_app(out).test_client()
    assert client.get("/api/epigenomes").status_code == 200
    generation = published_generation(out)
    assert invoke("tracks", out).exit_code == 0
    assert published_generation(out) != generation
    assert invoke("weights", out).exit_code == 0 and (out / "interpretation" / "weights.tsv").is_file()
    assert client.get("/api/epigenomes").status_code == 200  # the server followed


def _args(out):
    from helpers import build_args

    return build_args(out)[1:]


def test_a_workspace_written_before_generations_is_rebuilt_into_them(tmp_path):
    import shutil

    built = build_fixture(tmp_path / "built", "--epigenomes", "E901")
    legacy = tmp_path / "legacy"  # plain files and folders, as earlier versions wrote them
    shutil.copytree(built, legacy, ignore=shutil.ignore_patterns(".generations", "current"))
    assert not (legacy / "current").exists() and (legacy / "hub").is_dir() and not (legacy / "hub").is_symlink()
    assert Workspace.open(legacy).generation is None and Workspace.open(legacy).epigenomes() == ["E901"]
    build_fixture(legacy, "--epigenomes", "E901,E902")
    ws = Workspace.open(legacy)
    assert ws.generation == "g0001" and ws.epigenomes() == ["E901", "E902"] and (legacy / "hub").is_symlink()
    kept = legacy / ".generations" / "g0000"
    assert json.loads((kept / "workspace.json").read_text())["epigenomes"].keys() == {"E901"}  # set aside
    assert invoke("hub", "check", legacy).exit_code == 0
