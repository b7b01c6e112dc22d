// The split form's choices of new hamlet read the names typed above them as they are typed ("Ấp Tân Lập A", not
// "new hamlet 1"), the number again when a name is cleared. Without this script the names show once the form is sent.
(function () {
  "use strict";
  function follow(input) {
    var name = input.value.trim() || input.getAttribute("data-numbered");
    input.form.querySelectorAll('select option[value="' + input.getAttribute("data-part") + '"]')
      .forEach(function (option) { option.textContent = name; });
  }
  document.querySelectorAll("input[data-part]").forEach(function (input) {
    input.addEventListener("input", function () { follow(input); });
    follow(input);  // names the browser filled back in (the back button) are shown too
  });
})();
