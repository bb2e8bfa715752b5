// Variable and particle buttons on the template form insert their token at the cursor.
// A file, not an inline <script>: the Content-Security-Policy allows scripts from 'self' only.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-insert]");
  if (!button) return;
  var box = document.getElementById("id_body");
  var token = button.getAttribute("data-insert");
  var start = box.selectionStart, end = box.selectionEnd;
  box.value = box.value.slice(0, start) + token + box.value.slice(end);
  box.focus();
  box.selectionStart = box.selectionEnd = start + token.length;
  box.dispatchEvent(new Event("input", {bubbles: true}));
});
