// A long list of checkboxes (an area's communes) narrowed as the officer types part of a name, with or
// without accents ("vi thanh" finds "Phường Vị Thanh"); ticked boxes stay ticked while hidden and are
// sent with the form. Without this script the search box stays hidden and the whole list shows.
(function () {
  "use strict";
  function fold(s) {
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d").toLowerCase().trim();
  }
  function wire(box) {
    var list = document.querySelector(box.getAttribute("data-filter-list"));
    var input = box.querySelector("input");
    var none = box.querySelector("[data-filter-none]");
    var ticked = box.querySelector("[data-filter-count]");
    if (!list || !input) return;
    // How many are ticked, hidden ones included: the officer narrowing the list still sees the whole choice.
    function count() {
      if (!ticked) return;
      var n = list.querySelectorAll("input[type=checkbox]:checked").length;
      ticked.textContent = ticked.getAttribute("data-filter-count").replace("{n}", String(n));
    }
    list.addEventListener("change", count);
    count();
    var items = Array.prototype.map.call(list.querySelectorAll("li"), function (li) {
      return { li: li, text: fold(li.textContent) };
    });
    box.hidden = false;
    input.addEventListener("input", function () {
      var q = fold(input.value), shown = 0;
      items.forEach(function (item) {
        var show = !q || item.text.indexOf(q) !== -1;
        item.li.hidden = !show;
        if (show) shown += 1;
      });
      if (none) none.hidden = shown > 0;
    });
    // Enter in the search box would send the form: it only narrows the list.
    input.addEventListener("keydown", function (e) { if (e.key === "Enter") e.preventDefault(); });
  }
  document.querySelectorAll("[data-filter-list]").forEach(wire);
})();
