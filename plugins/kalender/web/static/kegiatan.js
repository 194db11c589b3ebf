/* Kalender OPD: the activity form's live check (progressive enhancement).
   As fields change, the form (with its csrf field) is posted to
   /kegiatan/periksa/, which answers JSON {ok, errors, message, clashes,
   suggestions} without writing anything; the answer is shown in the
   aria-live region #periksa. A suggestion's button fills the form in. The
   form works the same without this script (the server checks on submit). */
(function () {
  "use strict";

  var form = document.querySelector("form.kegiatan-form[data-periksa]");
  var region = document.getElementById("periksa");
  if (!form || !region || !window.fetch || !window.URLSearchParams || !window.FormData) {
    return;
  }
  var url = form.getAttribute("data-periksa");
  var touched = {};
  var timer = null;
  var sent = 0;

  function label(name) {
    var field = form.elements[name];
    var node = field && field.length && !field.tagName ? field[0] : field;
    if (node && node.id) {
      var own = form.querySelector('label[for="' + node.id + '"]');
      var group = node.closest("fieldset");
      if (name === "pejabat" || name === "kelas" || name === "status" || name === "sambutan") {
        own = group ? group.querySelector("legend") : own;
      }
      if (own) {
        return own.textContent.replace(/\s*\(wajib\)\s*/, "").trim();
      }
    }
    return name;
  }

  function clear() {
    while (region.firstChild) {
      region.removeChild(region.firstChild);
    }
  }

  function paragraph(text, className) {
    var p = document.createElement("p");
    p.textContent = text;
    if (className) {
      p.className = className;
    }
    region.appendChild(p);
    return p;
  }

  function fill(fields) {
    Object.keys(fields).forEach(function (name) {
      var field = form.elements[name];
      if (!field || !field.tagName) {
        return;
      }
      var value = fields[name];
      if (field.type === "time") {
        value = value.replace(".", ":");
        if (value.length === 4) {
          value = "0" + value;
        }
      }
      field.value = value;
      touched[name] = true;
    });
    schedule(0);
  }

  function show(answer) {
    clear();
    if (answer.ok) {
      paragraph("Pemeriksaan langsung: tidak ada bentrok tempat atau pejabat pada waktu ini.",
                "periksa-baik");
      return;
    }
    if (answer.message) {  /* the server's refusal, as a save would get it */
      paragraph("Pemeriksaan langsung: " + answer.message, "periksa-bentrok");
    } else {
      var names = Object.keys(answer.errors || {}).filter(function (name) {
        return touched[name];
      });
      if (!names.length) {
        paragraph("Lengkapi judul, tanggal, jam dan tempat untuk memeriksa bentrok.", "bantuan");
        return;
      }
      var list = document.createElement("ul");
      names.forEach(function (name) {
        var item = document.createElement("li");
        item.textContent = label(name) + ": " + answer.errors[name];
        list.appendChild(item);
      });
      region.appendChild(list);
    }
    var offers = answer.suggestions || [];
    if (offers.length) {
      paragraph("Pilihan yang masih kosong:");
      var choices = document.createElement("ul");
      choices.className = "periksa-tawaran";
      offers.forEach(function (offer) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "tawaran";
        button.textContent = offer.label;
        button.addEventListener("click", function () {
          fill(offer.fields);
        });
        item.appendChild(button);
        choices.appendChild(item);
      });
      region.appendChild(choices);
    }
  }

  function check() {
    var number = ++sent;
    var body = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string") {  /* the invitation PDF is sent only on save */
        body.append(name, value);
      }
    });
    fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: {"Accept": "application/json"}
    }).then(function (response) {
      var kind = response.headers.get("Content-Type") || "";
      if (!response.ok || kind.indexOf("application/json") !== 0) {
        throw new Error("periksa " + response.status);
      }
      return response.json();
    }).then(function (answer) {
      if (number === sent) {
        show(answer);
      }
    }).catch(function () {
      if (number === sent) {
        clear();
        paragraph("Pemeriksaan langsung tidak tersedia; server tetap memeriksa saat disimpan.",
                  "bantuan");
      }
    });
  }

  function schedule(delay) {
    if (timer) {
      clearTimeout(timer);
    }
    timer = setTimeout(check, delay);
  }

  function changed(event) {
    var name = event.target && event.target.name;
    if (!name || name === "csrf" || name === "versi" || name === "asal") {
      return;
    }
    touched[name] = true;
    schedule(event.type === "change" ? 150 : 700);
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
})();
