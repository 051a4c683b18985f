(function () {
  "use strict";
  var table = document.getElementById("matrix");
  var body = table.tBodies[0];
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var rows = Array.prototype.slice.call(body.rows);
  var roleFilter = document.getElementById("role-filter");
  var toolFilter = document.getElementById("tool-filter");
  var shown = document.getElementById("shown");
  var current = { column: 0, descending: false };

  function order(row) {
    return Number(row.getAttribute("data-order"));
  }

  // Column 0 sorts by policy order; a tool column by its cells' rank (allow first).
  function rank(row, column) {
    return column === 0 ? order(row) : Number(row.cells[column].getAttribute("data-rank"));
  }

  function sort(column, descending) {
    current = { column: column, descending: descending };
    var sorted = rows.slice().sort(function (a, b) {
      var difference = rank(a, column) - rank(b, column);
      if (difference !== 0) {
        return descending ? -difference : difference;
      }
      return order(a) - order(b);
    });
    sorted.forEach(function (row) { body.appendChild(row); });
    headers.forEach(function (header, index) {
      if (index === column) {
        header.setAttribute("aria-sort", descending ? "descending" : "ascending");
      } else {
        header.removeAttribute("aria-sort");
      }
    });
  }

  function filter() {
    var roleText = roleFilter.value.trim().toLowerCase();
    var toolText = toolFilter.value.trim().toLowerCase();
    var roles = 0;
    var tools = 0;
    rows.forEach(function (row) {
      var visible = row.getAttribute("data-role").toLowerCase().indexOf(roleText) !== -1;
      row.hidden = !visible;
      roles += visible ? 1 : 0;
    });
    headers.forEach(function (header, index) {
      if (index === 0) {
        return;
      }
      var visible = header.getAttribute("data-tool").toLowerCase().indexOf(toolText) !== -1;
      tools += visible ? 1 : 0;
      header.hidden = !visible;
      rows.forEach(function (row) { row.cells[index].hidden = !visible; });
    });
    shown.textContent = "showing " + roles + " of " + rows.length + " roles, " +
      tools + " of " + (headers.length - 1) + " " + table.getAttribute("data-plural");
  }

  headers.forEach(function (header, index) {
    var button = header.querySelector("button");
    button.addEventListener("click", function () {
      var again = current.column === index && !current.descending;
      sort(index, again);
    });
  });
  roleFilter.addEventListener("input", filter);
  toolFilter.addEventListener("input", filter);

  // `#sort=NAME&order=descending&roles=TEXT&tools=TEXT` opens the page sorted and filtered.
  var parameters = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  roleFilter.value = parameters.get("roles") || "";
  toolFilter.value = parameters.get("tools") || "";
  var column = 0;
  headers.forEach(function (header, index) {
    if (index > 0 && header.getAttribute("data-tool") === parameters.get("sort")) {
      column = index;
    }
  });
  sort(column, parameters.get("order") === "descending");
  filter();
  document.documentElement.setAttribute("data-ready", "true");
})();
