"""The explorer's fast start: a stored first view per dataset, the data loaded behind it.

An explorer opened on an atlas *folder* stores what it shows first (map
document, first state, control options) keyed by the folder's bytes, the
code and the options (:mod:`k360lib.maps.snapshot`). A deferred start (a
kernel) shows that snapshot without pandas/geopandas/numpy and loads the data
in a background thread; every interaction waits for it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from k360lib.maps import snapshot as snap
from k360lib.maps.atlas_map import AtlasMap
from k360lib.widgets import atlas_explorer as ae
from k360lib.widgets.atlas_explorer import SNAPSHOT_KIND, AtlasExplorer

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("K360_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    from k360lib.atlas.demo import demo_atlas

    return demo_atlas().save(tmp_path_factory.mktemp("city") / "demo")


def _snapshots(cache: Path) -> list[Path]:
    return sorted((cache / "snapshots" / SNAPSHOT_KIND).glob("*.json"))


def _strip_channel(app: AtlasExplorer, value: str) -> str:
    return value.replace(app.channel, "CHANNEL")


def _controls(app: AtlasExplorer) -> list:
    widgets = (app._indicator, app._year, app._scheme, app._k, app._palette)
    out = [(w.options, w.value) for w in widgets if hasattr(w, "options")]
    out += [(app._k.max, app._k.value), app._header.value]
    return out + [box.description for box in app._kind_boxes]


def _start(city, **kwargs) -> AtlasExplorer:
    """Open ``city`` as a kernel would, but start the background work only when asked."""
    return AtlasExplorer(city, lang="de", defer=True, **kwargs)


# -- the snapshot store --------------------------------------------------------------------
def test_snapshots_round_trip_and_unreadable_ones_are_ignored(cache):
    key = snap.snapshot_key("data", {"lang": "de"})
    assert snap.load_snapshot("x", key) is None
    path = snap.store_snapshot("x", key, {"a": [1, "ä"]})
    assert path == cache / "snapshots" / "x" / f"{key}.json"
    assert snap.load_snapshot("x", key)["a"] == [1, "ä"]
    path.write_text("{not json", encoding="utf-8")
    assert snap.load_snapshot("x", key) is None
    path.write_text(json.dumps({"a": 1, "version": -1}), encoding="utf-8")
    assert snap.load_snapshot("x", key) is None  # an older layout


def test_keys_follow_options_and_file_bytes_not_dates(tmp_path, cache):
    (tmp_path / "a.csv").write_text("1;2\n", encoding="utf-8")
    fp = snap.files_fingerprint(tmp_path, ["a.csv", "b.csv"])
    assert snap.snapshot_key(fp, {"lang": "de"}) != snap.snapshot_key(fp, {"lang": "en"})
    import os

    os.utime(tmp_path / "a.csv", (0, 0))
    assert snap.files_fingerprint(tmp_path, ["a.csv", "b.csv"]) == fp
    (tmp_path / "b.csv").write_text("", encoding="utf-8")  # a file that appears counts
    assert snap.files_fingerprint(tmp_path, ["a.csv", "b.csv"]) != fp


def test_caching_off_stores_nothing(city, monkeypatch, tmp_path):
    monkeypatch.setenv("K360_CACHE_DIR", "off")
    assert snap.store_snapshot("x", "k", {}) is None
    app = _start(city)
    assert app._loader is None and app.view is not None  # a normal start


# -- the explorer on a folder -------------------------------------------------------------
def test_first_view_from_a_snapshot_equals_a_normal_start(city, cache):
    from k360lib.atlas.model import Atlas

    normal = AtlasExplorer(Atlas.load(city), lang="de", defer=False)
    first = AtlasExplorer(city, lang="de", defer=False)  # loads and stores the snapshot
    assert first._loader is None and len(_snapshots(cache)) == 1
    fast = _start(city)
    assert fast._loader is not None  # shown from the snapshot
    assert _controls(fast) == _controls(normal) == _controls(first)
    for name in ("_map", "_channel_state", "_info"):
        assert _strip_channel(fast, getattr(fast, name).value) == _strip_channel(
            normal, getattr(normal, name).value
        )
    assert f'data-k360-channel="{fast.channel}"' in fast._map.value
    assert f'id="{fast.channel}-state"' in fast._channel_state.value
    assert fast.wait_ready(60)
    assert fast.view.to_dict() == normal.view.to_dict()
    assert fast._seq == 1  # the stored state was right: nothing sent again
    assert fast.need is not None and fast.container.children[-1] is fast._tabs
    assert len(_snapshots(cache)) == 1


def test_first_view_imports_no_pandas_numpy_or_geopandas(city, cache):
    AtlasExplorer(city, lang="de", defer=False)  # store the snapshot
    code = textwrap.dedent(
        f"""
        import sys, threading
        who = {{}}

        class Spy:
            def find_spec(self, name, path=None, target=None):
                if name in ("numpy", "pandas", "geopandas") and name not in who:
                    who[name] = threading.current_thread().name
                return None

        sys.meta_path.insert(0, Spy())
        from k360lib.widgets import atlas_explorer as ae
        app = ae.AtlasExplorer({str(city)!r}, lang="de", defer=True)
        assert app._loader is not None  # shown from the snapshot
        assert app.wait_ready(120)
        print(sorted(who.items()))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300
    )
    assert out.returncode == 0, out.stderr
    # imported, but only by the thread that loads the data behind the first view
    assert out.stdout.strip() == str(
        [(m, "k360-atlas-loader") for m in ("geopandas", "numpy", "pandas")]
    )


def test_nothing_loads_before_the_map_reports_drawn(city, cache, monkeypatch):
    AtlasExplorer(city, lang="de", defer=False)
    scheduled = []
    monkeypatch.setattr(ae, "_in_kernel", lambda: True)
    monkeypatch.setattr(ae, "_later", scheduled.append)
    monkeypatch.setattr(ae, "DRAWN_TIMEOUT_S", 3600.0)
    app = AtlasExplorer(city, lang="de")  # as in a kernel: deferred, the map reports drawn
    assert f"{app.channel}-drawn" in app._drawn._dom_classes
    assert app._loader is not None and not app._loader.is_alive()
    assert not app._loaded.is_set() and scheduled == []
    app._drawn.click()  # what the map's script does once it is on screen
    app._loader.join(60)
    assert app._loaded.is_set() and app.view is not None
    assert scheduled == [app._complete]  # the panels follow on the kernel's main thread
    scheduled.pop()()
    assert app._ready.is_set() and app._panels
    app._drawn.click()  # a second report changes nothing
    assert scheduled == []


def test_a_change_before_the_data_is_loaded_waits_for_it(city, cache, monkeypatch):
    AtlasExplorer(city, lang="de", defer=False)
    monkeypatch.setattr(ae, "_in_kernel", lambda: True)
    monkeypatch.setattr(ae, "_later", lambda func: None)  # no background start at all
    monkeypatch.setattr(ae, "DRAWN_TIMEOUT_S", 3600.0)
    app = AtlasExplorer(city, lang="de")
    assert not app._loaded.is_set()
    other = [v for _, v in app._indicator.options if v != app._indicator.value][0]
    app._indicator.value = other  # the handler starts the loading and waits
    assert app._loaded.is_set()
    assert app.view.indicator == other and app._seq == 2
    assert f'"indicator": "{other}"' in app._channel_state.value.replace('":"', '": "')


def test_a_stale_stored_state_is_replaced_after_loading(city, cache):
    AtlasExplorer(city, lang="de", defer=False)
    (path,) = _snapshots(cache)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["state"] = data["state"].replace('"legend":"', '"legend":"OLD ')
    path.write_text(json.dumps(data), encoding="utf-8")
    app = _start(city)
    assert "OLD " in app._channel_state.value
    assert app.wait_ready(60)
    assert app._seq == 2
    assert app._channel_state.value == AtlasMap.channel_state_html(app.channel, app.view)
    assert "OLD " not in app._channel_state.value


def test_changed_data_or_options_miss_the_snapshot(city, cache, tmp_path):
    import shutil

    AtlasExplorer(city, lang="de", defer=False)
    assert _start(city)._loader is not None
    assert _start(city, title="Anders")._loader is None  # other options
    AtlasExplorer(city, lang="de", live=False)  # stores a snapshot of its own
    assert _start(city)._loader is not None and "data-k360-channel" in _start(city)._map.value
    copy = tmp_path / "copy"
    shutil.copytree(city, copy)
    assert _start(copy)._loader is not None  # same bytes elsewhere: the same snapshot
    table = copy / "indicators.csv"
    lines = table.read_text(encoding="utf-8").splitlines()
    table.write_text("\n".join([*lines[:-1], lines[-1] + "1"]) + "\n", encoding="utf-8")
    app = _start(copy)
    assert app._loader is None and app.view is not None


def test_a_broken_snapshot_falls_back_to_a_normal_start(city, cache):
    AtlasExplorer(city, lang="de", defer=False)
    (path,) = _snapshots(cache)
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["spec"]["palettes"]
    path.write_text(json.dumps(data), encoding="utf-8")
    app = _start(city)
    assert app._loader is None and app.view is not None and app.wait_ready(60)


def test_loading_errors_are_shown_not_raised(city, cache, tmp_path, monkeypatch):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(city, copy)
    AtlasExplorer(copy, lang="de", defer=False)
    monkeypatch.setattr(ae, "_in_kernel", lambda: True)
    monkeypatch.setattr(ae, "_later", lambda func: None)  # loading starts when asked
    monkeypatch.setattr(ae, "DRAWN_TIMEOUT_S", 3600.0)
    app = AtlasExplorer(copy, lang="de")
    (copy / "areas.geojson").write_text("{broken", encoding="utf-8")
    assert app.wait_ready(60) is True
    assert "k360-error" in app._status.value
    assert app.view is None
    app._indicator.value = app._indicator.options[1][1]  # ignored, no exception


def test_a_preheated_kernel_loads_the_data_but_keeps_the_panels_for_its_page(
    city, cache, monkeypatch
):
    AtlasExplorer(city, lang="de", defer=False)
    scheduled = []
    monkeypatch.setattr(ae, "_in_kernel", lambda: True)
    monkeypatch.setattr(ae, "_later", scheduled.append)
    monkeypatch.setattr(ae, "DRAWN_TIMEOUT_S", 3600.0)
    monkeypatch.setenv("VOILA_PREHEAT", "True")
    app = AtlasExplorer(city, lang="de")
    app._on_timeout()  # no page yet: Voilà's pool ran the notebook in advance
    app._loader.join(60)
    assert app._loaded.is_set() and scheduled == []
    assert not app._panels  # the page's first message stays small
    app._drawn.click()  # the page's map is drawn: the panels now, the data is there
    assert app._panels and app._ready.is_set()


def test_only_the_newest_snapshots_are_kept(cache, monkeypatch):
    import os

    paths = [snap.store_snapshot("x", f"k{i}", {"i": i}) for i in range(5)]
    for i, path in enumerate(paths[:4]):  # the file dates decide, not the names
        os.utime(path, ns=(i * 10**9, i * 10**9))
    monkeypatch.setattr(snap, "MAX_SNAPSHOTS", 3)
    snap.store_snapshot("x", "k5", {"i": 5})
    kept = sorted(p.stem for p in (cache / "snapshots" / "x").glob("*.json"))
    assert kept == ["k3", "k4", "k5"]
