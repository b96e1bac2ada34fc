// Conveniences only: every page works without this script.
// "Print this page": the hint paragraph becomes a button.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".print-hint[data-print]").forEach(function (hint) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button secondary";
    button.textContent = hint.getAttribute("data-print");
    button.addEventListener("click", function () { window.print(); });
    hint.textContent = "";
    hint.appendChild(button);
  });
});
