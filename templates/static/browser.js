/* ShallowChrome /browser: igv.js over a few epigenomes, an epigenome picker, the selection and the locus in
   the address.

   The page (templates/site/browser.html) sets window.shallowchromeBrowser = {options, selected,
   defaultSelection, tracksUrl, trackBudget}: igv.js options with the tracks of the selected epigenomes (each
   track's config names its epigenome in shallowchromeEpigenome), and where to fetch the tracks of others.

   - Picking or dropping an epigenome adds or removes only its tracks (browser.loadTrackList / removeTrack)
     and pushes a history entry ?epigenomes=A,B&locus=chr:start-end; moving replaces the entry's locus, a
     jump from igv.js's search box pushes one. The back button restores both.
   - Tracks of a mark share one y scale (igv.js autoscaleGroup, set by the server); igv.js regroups them
     when tracks come and go (browser.updateViews()).
   - #igv carries data-ready (igv.js created), data-busy (tracks being added or removed) and data-shown
     (the epigenomes whose tracks are loaded, comma-separated) for tests and scripts.
   Nothing here writes HTML from data: text goes through textContent. */
(function () {
  "use strict";
  const cfg = window.shallowchromeBrowser;
  const div = document.getElementById("igv");
  if (!cfg || !div || !window.igv) return;

  const boxes = Array.from(document.querySelectorAll("#picker input.picker-box"));
  const groups = Array.from(document.querySelectorAll("#picker fieldset.picker-group"));
  const order = boxes.map(function (b) { return b.value; });  // the picker's order: the tracks' order too
  const byFold = new Map(order.map(function (e) { return [e.toLowerCase(), e]; }));
  const configs = new Map();  // epigenome → its igv.js track configs (the page's, then fetched ones)
  for (const c of cfg.options.tracks) {
    const eid = c.shallowchromeEpigenome;
    if (!eid) continue;
    if (!configs.has(eid)) configs.set(eid, []);
    configs.get(eid).push(c);
  }
  let browser = null;
  let restoring = 0;       // > 0 while the page applies an address (popstate): no history entries then
  let pushLocus = false;   // the next locus change is a jump (igv.js search box): a history entry of its own
  let chain = Promise.resolve();
  let locusTimer = null;

  // ---- selection ----------------------------------------------------------------------------------
  function canonical(ids) {
    const wanted = new Set(ids);
    return order.filter(function (e) { return wanted.has(e); });
  }
  function wanted() {
    return boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
  }
  function setWanted(ids) {
    const keep = new Set(ids);
    for (const b of boxes) b.checked = keep.has(b.value);
    refreshPicker();
  }
  function loadedTracks() {  // epigenome → its tracks now in igv.js
    const out = new Map();
    for (const tv of browser.trackViews) {
      const eid = tv.track && tv.track.config && tv.track.config.shallowchromeEpigenome;
      if (!eid) continue;
      if (!out.has(eid)) out.set(eid, []);
      out.get(eid).push(tv.track);
    }
    return out;
  }

  // ---- the address --------------------------------------------------------------------------------
  function currentLocus() {
    if (!browser) return null;
    const loci = browser.currentLoci();
    const one = Array.isArray(loci) ? (loci.length === 1 ? loci[0] : null) : loci;
    const text = one ? String(one).replace(/,/g, "") : null;
    return text && /^[^:\s]+:\d+(-\d+)?$/.test(text) ? text : null;  // not "all", not several loci
  }
  function enc(s) { return encodeURIComponent(s).replace(/%3A/gi, ":").replace(/%2C/gi, ","); }
  function addressOf(ids, locus) {
    return location.pathname + "?epigenomes=" + ids.map(enc).join(",") + (locus ? "&locus=" + enc(locus) : "");
  }
  function fromAddress() {
    const params = new URLSearchParams(location.search);
    const raw = params.get("epigenomes");
    const ids = raw === null ? cfg.defaultSelection : raw.split(",").map(function (s) {
      return byFold.get(s.trim().toLowerCase());
    }).filter(Boolean);
    return {epigenomes: canonical(ids), locus: params.get("locus")};
  }
  function record(push) {
    if (restoring) return;
    const ids = wanted();
    const locus = currentLocus() || fromAddress().locus || cfg.options.locus;
    const url = addressOf(ids, locus);
    const state = {epigenomes: ids, locus: locus};
    if (push && url !== location.pathname + location.search) history.pushState(state, "", url);
    else history.replaceState(state, "", url);
    document.getElementById("locus-epigenomes").value = ids.join(",");
  }

  // ---- loading and removing tracks ----------------------------------------------------------------
  function say(text) {
    const box = document.getElementById("track-message");
    box.textContent = text || "";
    box.hidden = !text;
  }
  async function fetchConfigs(ids) {
    const response = await fetch(cfg.tracksUrl + "?epigenomes=" + ids.map(encodeURIComponent).join(","));
    const doc = await response.json();
    if (!response.ok || !doc.epigenomes) throw new Error((doc.error && doc.error.message) || response.statusText);
    for (const eid of Object.keys(doc.epigenomes)) configs.set(eid, doc.epigenomes[eid]);
  }
  // igv.js's updateViews() is asynchronous and sets the scales of the track views it started with: a track
  // removed meanwhile (its view disposed) makes it throw. removeTrack() itself starts one (its
  // "trackremoved" handler calls layoutChange()), so tracks are removed one at a time, each when no
  // updateViews() is under way.
  let viewsPending = 0;
  const idleWaiters = [];
  function countViews(b) {
    const update = b.updateViews.bind(b);
    b.updateViews = async function () {  // igv.js calls this.updateViews() itself (resize, navigation ...)
      viewsPending++;
      try {
        return await update.apply(null, arguments);
      } finally {
        if (--viewsPending === 0) idleWaiters.splice(0).forEach(function (f) { f(); });
      }
    };
  }
  function viewsIdle() {
    return viewsPending ? new Promise(function (f) { idleWaiters.push(f); }) : Promise.resolve();
  }
  async function reconcile() {
    const failed = new Set();
    for (let round = 0; round < 5; round++) {
      const want = wanted().filter(function (e) { return !failed.has(e); });
      const have = loadedTracks();
      const drop = Array.from(have.keys()).filter(function (e) { return !want.includes(e); });
      const add = want.filter(function (e) { return !have.has(e); });
      if (!drop.length && !add.length) break;
      for (const eid of drop) {
        for (const track of have.get(eid)) {
          while (viewsPending) await viewsIdle();  // checked again: another may have started before this resumed
          browser.removeTrack(track);
        }
      }
      const need = add.filter(function (e) { return !configs.has(e); });
      if (need.length) await fetchConfigs(need);
      const still = wanted().filter(function (e) { return add.includes(e) && !loadedTracks().has(e); });
      if (!still.length) continue;
      const list = [];
      for (const eid of still) for (const c of configs.get(eid) || []) list.push(Object.assign({}, c));
      try {
        await browser.loadTrackList(list);
      } catch (e) {
        say("Could not load every track of " + still.join(", ") + ": " + (e && e.message ? e.message : e));
      }
      const now = loadedTracks();
      for (const eid of still) if (!now.has(eid)) failed.add(eid);
    }
    await browser.updateViews();  // shared scales over the tracks shown now
  }
  let syncing = 0;  // sync() calls not finished: data-busy until the last one is
  function sync() {
    syncing++;
    div.dataset.busy = "true";
    chain = chain.then(function () { say(""); return reconcile(); }).catch(function (e) {
      say("Could not change the tracks: " + (e && e.message ? e.message : e));
    }).then(function () {
      div.dataset.shown = canonical(Array.from(loadedTracks().keys())).join(",");
      if (--syncing === 0) div.dataset.busy = "false";
      refreshPicker();
    });
    return chain;
  }

  // ---- the picker ---------------------------------------------------------------------------------
  function refreshPicker() {
    const chosen = boxes.filter(function (b) { return b.checked; });
    const count = document.getElementById("picker-count");
    if (count) count.textContent = String(chosen.length);
    const tracks = chosen.reduce(function (n, b) { return n + Number(b.dataset.tracks || 0); }, 0);
    const note = document.getElementById("picker-tracks");
    if (note) {
      note.textContent = tracks + " tracks" + (tracks > cfg.trackBudget ? ": many tracks make the browser slow" : "");
    }
    for (const g of groups) {
      const own = Array.from(g.querySelectorAll("input.picker-box"));
      const on = own.filter(function (b) { return b.checked; }).length;
      const all = g.querySelector("input.picker-all");
      all.checked = on === own.length;
      all.indeterminate = on > 0 && on < own.length;
      g.querySelector(".picker-group-count").textContent = on + "/" + own.length;
    }
  }
  function picked() {
    refreshPicker();
    record(true);
    sync();
  }
  for (const b of boxes) b.addEventListener("change", picked);
  for (const g of groups) {
    g.querySelector("input.picker-all").addEventListener("change", function (e) {
      for (const b of g.querySelectorAll("input.picker-box")) b.checked = e.target.checked;
      picked();
    });
  }
  const byDefault = document.getElementById("picker-default");
  if (byDefault) byDefault.addEventListener("click", function () { setWanted(cfg.defaultSelection); picked(); });
  const none = document.getElementById("picker-none");
  if (none) none.addEventListener("click", function () { setWanted([]); picked(); });
  const filter = document.getElementById("picker-filter");
  if (filter) {
    filter.addEventListener("input", function () {
      const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
      let visible = 0;
      for (const g of groups) {
        let shown = 0;
        for (const item of g.querySelectorAll(".picker-item")) {
          const text = item.dataset.filter || "";
          const match = words.every(function (w) { return text.includes(w); });
          item.hidden = !match;
          if (match) shown++;
        }
        g.hidden = shown === 0;
        visible += shown;
      }
      document.getElementById("picker-empty").hidden = visible > 0;
    });
  }
  setWanted(cfg.selected);  // what the server rendered, not boxes a reload restored

  // ---- igv.js search-box suggestions (a name igv.js cannot place) --------------------------------
  function suggestFor(name) {
    const box = document.getElementById("search-message");
    fetch("/api/genes/" + encodeURIComponent(name)).then(function (r) { return r.json(); }).then(function (doc) {
      if (!doc.error) { box.hidden = true; return; }
      const close = doc.error.suggestions || [];
      box.textContent = "Unknown gene or locus " + name + (close.length ? "; did you mean: " : ".");
      close.forEach(function (s, i) {
        const a = document.createElement("a");
        a.href = "?epigenomes=" + wanted().map(enc).join(",") + "&locus=" + encodeURIComponent(s);
        a.textContent = s;
        box.append(i ? ", " : "", a);
      });
      box.hidden = false;
    });
  }

  // ---- start --------------------------------------------------------------------------------------
  window.addEventListener("popstate", function () {
    if (!browser) return;
    const target = fromAddress();
    restoring++;
    setWanted(target.epigenomes);
    const moved = target.locus && target.locus.replace(/,/g, "") !== currentLocus()
      ? Promise.resolve(browser.search(target.locus)).catch(function () {}) : Promise.resolve();
    Promise.all([sync(), moved]).finally(function () {
      clearTimeout(locusTimer);
      restoring--;
      document.getElementById("locus-epigenomes").value = wanted().join(",");
    });
  });

  igv.createBrowser(div, cfg.options).then(function (b) {
    browser = window.igvBrowser = window.shallowchromeSafePopups(b);
    countViews(b);
    const root = div.shadowRoot || div;  // igv.js 3
    root.addEventListener("keydown", function (e) {  // capture: igv.js handles the key on the input itself
      if (e.key !== "Enter" || !e.target.classList || !e.target.classList.contains("igv-search-input")) return;
      const name = e.target.value.trim(), before = String(b.currentLoci());
      pushLocus = true;
      setTimeout(function () {
        if (name && String(b.currentLoci()) === before) { pushLocus = false; suggestFor(name); }
      }, 800);
    }, true);
    b.on("locuschange", function () {
      if (restoring) return;
      clearTimeout(locusTimer);
      locusTimer = setTimeout(function () { record(pushLocus); pushLocus = false; }, 300);
    });
    record(false);  // the address names what is shown (the default selection, the resolved gene)
    div.dataset.shown = canonical(Array.from(loadedTracks().keys())).join(",");
    div.dataset.busy = "false";
    div.dataset.ready = "true";
  }).catch(function (e) {
    div.dataset.error = String(e);
  });
})();
