// "A new household" on the visit form opens the new-household fields with the name searched for
// already in the head's name, so it is typed once. Without JavaScript the "add as a new household"
// button posts the form and the server does the same. The search finds names typed without accents, so a
// name filled in from it may have none: its hint ("with its accents") then stands out until they are added.
(function () {
  "use strict";

  function markUnaccented() {
    var name = document.getElementById("new_name");
    var hint = document.getElementById("new_name-hint");
    if (!name || !hint) { return; }
    var value = name.value.trim();
    hint.classList.toggle("warning", /[a-z]/i.test(value) && !/[^\x00-\x7f]/.test(value));
  }

  function openNew(searched) {
    var details = document.querySelector("details.new-household");
    var name = document.getElementById("new_name");
    var radio = document.getElementById("hh-new");
    if (!details || !name) { return; }
    details.open = true;
    if (radio) { radio.checked = true; }
    if (!name.value.trim() && searched) {
      name.value = searched.trim();
      // Lets the form's look-up of similar households run for the name just filled in.
      name.dispatchEvent(new Event("input", { bubbles: true }));
    }
    markUnaccented();
    name.focus();
  }

  function searchText() {
    var q = document.getElementById("q");
    return q ? q.value : "";
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[name=add_new]");
    if (!button) { return; }
    event.preventDefault();
    openNew(searchText());
  });

  document.addEventListener("input", function (event) {
    if (event.target.id === "new_name") { markUnaccented(); }
  });
  markUnaccented();  // a refused form comes back with the name as it was sent

  document.addEventListener("change", function (event) {
    if (event.target.id === "hh-new" && event.target.checked) { openNew(searchText()); }
  });

  var details = document.querySelector("details.new-household");
  if (details) {
    details.addEventListener("toggle", function () {
      var name = document.getElementById("new_name");
      if (details.open && name && !name.value.trim() && searchText().trim()) { openNew(searchText()); }
    });
  }
}());
