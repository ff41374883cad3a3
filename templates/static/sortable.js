// Sortable tables, no dependency. A <table data-sortable> sorts its first <tbody> by a column when the
// column's header is clicked (again: the other direction). The markup it reads:
//   <th data-sort-key="K" data-sort-type="number|text">  a sortable column (type text by default);
//   <td data-key="K" data-value="V">                      the row's value for column K (default: its text;
//                                                         without a data-key cell, the cell under the header);
//                                                         an empty value sorts last in both directions;
//   <tr data-group="G" data-group-rank="N">               a data row of group G (groups ordered by N);
//   <tr data-group-header data-group="G">                 the heading row of group G.
// With <table data-grouped>, rows sort within their group, headings first, and a checkbox before the
// table ("Group by Roadmap group") turns the grouping off (headings hidden, one sort over all rows).
// Numbers sort largest first on the first click, text A to Z; aria-sort on the header says which.
(function () {
  "use strict";

  function value(cell) {
    return cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
  }

  // The row's value for a column: its data-key cell, else the cell at the header's column position.
  function cellValue(row, key, column) {
    for (const cell of row.cells) {
      if (cell.dataset.key === key) return value(cell);
    }
    if (column === undefined) return "";
    let at = 0;
    for (const cell of row.cells) {
      at += cell.colSpan || 1;
      if (at > column) return value(cell);
    }
    return "";
  }

  // The first grid column of each header cell (rowspans and colspans of the head rows accounted for).
  function headerColumns(table) {
    const columns = new Map(), taken = [];
    Array.from(table.tHead ? table.tHead.rows : []).forEach(function (tr, r) {
      let c = 0;
      for (const th of tr.cells) {
        while (taken[r] && taken[r][c]) c++;
        columns.set(th, c);
        for (let dr = 0; dr < (th.rowSpan || 1); dr++) {
          taken[r + dr] = taken[r + dr] || [];
          for (let dc = 0; dc < (th.colSpan || 1); dc++) taken[r + dr][c + dc] = true;
        }
        c += th.colSpan || 1;
      }
    });
    return columns;
  }

  const collator = new Intl.Collator(undefined, {numeric: true, sensitivity: "base"});

  // -1/0/1 for a before/equal/after b; missing values after everything whatever the direction.
  function compareValues(a, b, type, direction) {
    if (type === "number") {
      const x = a === "" ? NaN : Number(a), y = b === "" ? NaN : Number(b);
      const xm = !Number.isFinite(x), ym = !Number.isFinite(y);
      if (xm || ym) return xm === ym ? 0 : (xm ? 1 : -1);
      return direction * (x < y ? -1 : x > y ? 1 : 0);
    }
    if (a === "" || b === "") return a === b ? 0 : (a === "" ? 1 : -1);
    return direction * collator.compare(a, b);
  }

  function setup(table) {
    const body = table.tBodies[0];
    if (!body) return;
    const all = Array.from(body.rows);
    const rows = all.filter(r => !r.hasAttribute("data-group-header"));
    const headings = new Map(all.filter(r => r.hasAttribute("data-group-header")).map(r => [r.dataset.group, r]));
    rows.forEach((r, i) => { r.dataset.order = String(i); });
    const state = {key: null, column: undefined, type: "text", direction: 1, grouped: table.hasAttribute("data-grouped")};
    const headers = Array.from(table.querySelectorAll("thead th[data-sort-key]"));
    const columns = headerColumns(table);

    function apply() {
      const sorted = rows.slice().sort(function (a, b) {
        if (state.grouped) {
          const g = Number(a.dataset.groupRank || 0) - Number(b.dataset.groupRank || 0);
          if (g) return g;
        }
        if (state.key) {
          const c = compareValues(cellValue(a, state.key, state.column), cellValue(b, state.key, state.column),
                                  state.type, state.direction);
          if (c) return c;
        }
        return Number(a.dataset.order) - Number(b.dataset.order);
      });
      const fragment = document.createDocumentFragment();
      let group = null;
      for (const r of sorted) {
        if (state.grouped && r.dataset.group !== group) {
          group = r.dataset.group;
          const heading = headings.get(group);
          if (heading) fragment.appendChild(heading);
        }
        fragment.appendChild(r);
      }
      for (const heading of headings.values()) {
        heading.hidden = !state.grouped;
        if (!state.grouped) fragment.appendChild(heading);
      }
      body.appendChild(fragment);
      table.dataset.sortedBy = state.key ? state.key + (state.direction > 0 ? " ascending" : " descending") : "";
    }

    for (const th of headers) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.title = "Sort by this column (click again to reverse)";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      th.setAttribute("aria-sort", "none");
      button.addEventListener("click", function () {
        const key = th.dataset.sortKey, type = th.dataset.sortType === "number" ? "number" : "text";
        if (state.key === key) {
          state.direction = -state.direction;
        } else {
          state.key = key;
          state.column = columns.get(th);
          state.type = type;
          state.direction = type === "number" ? -1 : 1;
        }
        for (const other of headers) other.setAttribute("aria-sort", "none");
        th.setAttribute("aria-sort", state.direction > 0 ? "ascending" : "descending");
        apply();
      });
    }

    if (state.grouped && headings.size) {
      const label = document.createElement("label");
      label.className = "group-toggle";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = true;
      box.addEventListener("change", function () { state.grouped = box.checked; apply(); });
      label.appendChild(box);
      label.appendChild(document.createTextNode(" Group rows by Roadmap group"));
      table.parentNode.insertBefore(label, table);
    }
    table.dataset.sortable = "ready";
  }

  document.querySelectorAll("table[data-sortable]").forEach(setup);
})();
