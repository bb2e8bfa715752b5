// The counter check-in tablet: the number pad, the retry after a network error (the same form,
// so the same tap key), and the way back to the pad after a result. No inline scripts (CSP).
(function () {
  "use strict";

  function phoneInput() {
    return document.querySelector("[data-phone-input]");
  }

  function format(digits) {
    if (digits.length < 4) return digits;
    if (digits.length < 8) return digits.slice(0, 3) + "-" + digits.slice(3);
    return digits.slice(0, 3) + "-" + digits.slice(3, 7) + "-" + digits.slice(7, 11);
  }

  function prepare() {
    var input = phoneInput();
    if (input && !input.readOnly) {
      // The pad is the keyboard: no on-screen keyboard over it.
      input.readOnly = true;
      input.setAttribute("inputmode", "none");
      input.value = format(input.value.replace(/\D/g, ""));
    }
    var result = document.querySelector("[data-return-after]");
    if (result && !result.dataset.timer) {
      var home = document.querySelector("[data-kiosk-home]");
      var seconds = parseInt(result.dataset.returnAfter, 10) || 6;
      result.dataset.timer = "1";
      window.setTimeout(function () {
        window.location.assign(home ? home.dataset.kioskHome : window.location.pathname);
      }, seconds * 1000);
    }
  }

  document.addEventListener("click", function (event) {
    var key = event.target.closest("[data-digit], [data-back], [data-clear]");
    var input = phoneInput();
    if (!key || !input) return;
    var digits = input.value.replace(/\D/g, "");
    if (key.hasAttribute("data-digit")) {
      if (digits.length < 11) digits += key.dataset.digit;
    } else if (key.hasAttribute("data-back")) {
      digits = digits.slice(0, -1);
    } else {
      digits = "";
    }
    input.value = format(digits);
  });

  function showNetError(event) {
    var form = event.target.closest ? event.target.closest("[data-kiosk-form]") : null;
    var box = (form || document).querySelector("[data-net-error]");
    if (box) box.hidden = false;
  }

  document.addEventListener("htmx:sendError", showNetError);
  document.addEventListener("htmx:responseError", showNetError);
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.target.closest ? event.target.closest("[data-kiosk-form]") : null;
    var box = form && form.querySelector("[data-net-error]");
    if (box) box.hidden = true;
  });
  document.addEventListener("htmx:afterSettle", prepare);
  document.addEventListener("DOMContentLoaded", prepare);
})();
