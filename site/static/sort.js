// Sort any <table data-sortable> by clicking (or pressing Enter on) a column header.
// Cells carry data-sort (a number, or lower-case text) and data-tier (0 complete,
// 1 partial average, 2 missing). The tier always sorts ascending, whichever way the
// column goes, so a partial or missing value never climbs above the complete ones.
(function () {
  "use strict";

  function sortTable(table, index, th) {
    var numeric = th.getAttribute("data-type") !== "text";
    var current = th.getAttribute("aria-sort");
    // Numbers start best-first (descending), text A-Z; a second click reverses.
    var descending = current ? current === "ascending" : numeric;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var keyed = rows.map(function (row, position) {
      var cell = row.cells[index];
      var raw = cell ? cell.getAttribute("data-sort") || "" : "";
      return {
        row: row,
        position: position,
        tier: cell ? Number(cell.getAttribute("data-tier") || 0) : 2,
        value: numeric ? parseFloat(raw) : raw,
      };
    });
    keyed.sort(function (a, b) {
      if (a.tier !== b.tier) return a.tier - b.tier;
      var order = 0;
      if (numeric) {
        var an = isNaN(a.value) ? -Infinity : a.value;
        var bn = isNaN(b.value) ? -Infinity : b.value;
        order = an - bn;
      } else {
        order = a.value.localeCompare(b.value);
      }
      if (descending) order = -order;
      return order || a.position - b.position;
    });
    keyed.forEach(function (k) { body.appendChild(k.row); });
    Array.prototype.forEach.call(th.parentNode.cells, function (other) { other.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }

  function init() {
    var tables = document.querySelectorAll("table[data-sortable]");
    Array.prototype.forEach.call(tables, function (table) {
      if (!table.tHead || table.getAttribute("data-sort-ready")) return;
      table.setAttribute("data-sort-ready", "true");
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
        th.addEventListener("click", function (event) {
          if (event.target.closest("a")) return;  // a header link (task page) navigates instead
          sortTable(table, index, th);
        });
        th.addEventListener("keydown", function (event) {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            sortTable(table, index, th);
          }
        });
      });
    });
  }

  // <input data-filter-for="ID">: keep the rows of table ID whose text holds what is typed (any case, spaces folded).
  function initFilters() {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-filter-for]"), function (input) {
      var table = document.getElementById(input.getAttribute("data-filter-for"));
      if (!table || !table.tBodies.length || input.getAttribute("data-filter-ready")) return;
      input.setAttribute("data-filter-ready", "true");
      input.addEventListener("input", function () {
        var wanted = input.value.toLowerCase().replace(/\s+/g, " ").trim();
        Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
          var text = row.textContent.toLowerCase().replace(/\s+/g, " ");
          row.hidden = wanted !== "" && text.indexOf(wanted) === -1;
        });
      });
    });
  }

  function start() {
    init();
    initFilters();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
