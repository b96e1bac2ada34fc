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

  // "Around me": the browser's position, rounded to about 100 m, replaces the commune.
  // Without a script, or when the reader refuses, the commune field does the same job.
  if ("geolocation" in navigator) {
    document.querySelectorAll("form.search .locate[data-locate]").forEach(function (slot) {
      var form = slot.closest("form");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button secondary";
      button.textContent = slot.getAttribute("data-locate");
      var status = document.createElement("span");
      status.setAttribute("role", "status");
      button.addEventListener("click", function () {
        status.textContent = slot.getAttribute("data-busy");
        navigator.geolocation.getCurrentPosition(function (position) {
          var near = form.querySelector("input[name=near]");
          if (!near) {
            near = document.createElement("input");
            near.type = "hidden";
            near.name = "near";
            form.appendChild(near);
          }
          near.value = position.coords.latitude.toFixed(3) + "," + position.coords.longitude.toFixed(3);
          form.querySelector("input[name=commune]").value = "";
          form.submit();
        }, function () {
          status.textContent = slot.getAttribute("data-failed");
        }, { timeout: 15000, maximumAge: 600000 });
      });
      slot.appendChild(button);
      slot.appendChild(status);
      slot.hidden = false;
    });
  }
});
