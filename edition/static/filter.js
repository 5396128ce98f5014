// Filters the list of letters by year, direction and phase. Without JavaScript every letter is listed.
(function () {
  var form = document.querySelector("form.filters");
  if (!form) return;
  form.hidden = false;
  var rows = Array.prototype.slice.call(document.querySelectorAll("table.letters tbody tr"));
  form.addEventListener("change", function () {
    var year = form.year.value, direction = form.direction.value, phase = form.phase.value;
    rows.forEach(function (row) {
      var show = (!year || row.dataset.year === year) && (!direction || row.dataset.direction === direction) &&
                 (!phase || row.dataset.phase === phase);
      row.hidden = !show;
    });
  });
})();
