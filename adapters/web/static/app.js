// Redlane pages: live regions, the dispatch dialog, the terminal's feed and clock.
// Served from /static/ so that the pages' Content-Security-Policy allows no inline script.
(function () {
  'use strict';

  // A live region (data-live: its Server-Sent Events; data-fragment: where to fetch it
  // again) is redrawn when the server says the backlog changed. It waits while someone
  // types in it, and keeps the sections they opened.
  function live(region) {
    var src = region.getAttribute('data-live');
    var fragment = region.getAttribute('data-fragment');
    var state = document.querySelector('[data-live-state]');
    var pending = 0, busy = false, timer = null;

    function setState(text, off) {
      if (!state) return;
      state.textContent = text;
      state.classList.toggle('off', off);
    }
    function editing() {
      var a = document.activeElement;
      return a && region.contains(a) && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName) &&
        a.type !== 'submit' && a.type !== 'radio' && a.type !== 'checkbox';
    }
    function schedule(delay) {
      clearTimeout(timer);
      timer = setTimeout(refresh, delay);
    }
    function openSections() {
      var open = [];
      region.querySelectorAll('[data-order]').forEach(function (item) {
        item.querySelectorAll('details').forEach(function (d, i) {
          if (d.open) open.push(item.getAttribute('data-order') + ':' + i);
        });
      });
      return open;
    }
    function reopen(open) {
      open.forEach(function (key) {
        var parts = key.split(':');
        var item = region.querySelector('[data-order="' + parts[0] + '"]');
        var d = item && item.querySelectorAll('details')[Number(parts[1])];
        if (d) d.open = true;
      });
    }
    function refresh() {
      if (busy) { schedule(100); return; }
      if (editing()) { schedule(1000); return; }
      busy = true;
      var url = fragment + (fragment.indexOf('?') < 0 ? '?' : '&') + 'at=' + pending;
      fetch(url, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
        .then(function (r) {
          if (r.redirected || !r.ok) throw new Error('fragment ' + r.status);
          return r.text();
        })
        .then(function (html) {
          var open = openSections();
          region.innerHTML = html;
          reopen(open);
          region.setAttribute('data-seq', String(pending));
        })
        .catch(function () { setState('刷新失败，请重新加载页面', true); })
        .then(function () { busy = false; });
    }

    var es = new EventSource(src);
    es.addEventListener('changed', function (ev) {
      try { pending = Math.max(pending, JSON.parse(ev.data).seq || 0); } catch (e) { return; }
      schedule(0);
    });
    es.onopen = function () { setState('实时更新', false); };
    es.onerror = function () { setState('连接中断，正在重连…', true); };
  }
  document.querySelectorAll('[data-live]').forEach(live);

  // The dispatch dialog: a link with data-dialog opens its page's panel in a <dialog>;
  // without script it is an ordinary link to that page.
  function openDialog(href) {
    var dlg = document.getElementById('dialog');
    if (!dlg || typeof dlg.showModal !== 'function') { location.href = href; return; }
    var u = new URL(href, location.href);
    u.searchParams.set('fragment', '1');
    u.searchParams.set('next', location.pathname);
    fetch(u.toString(), { credentials: 'same-origin' })
      .then(function (r) { if (!r.ok || r.redirected) throw new Error(String(r.status)); return r.text(); })
      .then(function (html) {
        dlg.querySelector('[data-dialog-body]').innerHTML = html;
        dlg.showModal();
      })
      .catch(function () { location.href = href; });
  }
  document.addEventListener('click', function (e) {
    var a = e.target.closest('a[data-dialog]');
    if (a) { e.preventDefault(); openDialog(a.href); return; }
    var c = e.target.closest('[data-close]');
    if (c) { var d = c.closest('dialog'); if (d) d.close(); }
  });

  // A form is sent once: a second tap while the first is on its way does nothing.
  document.addEventListener('submit', function (e) {
    var f = e.target;
    if (f.getAttribute('data-sent')) { e.preventDefault(); return; }
    f.setAttribute('data-sent', '1');
  });

  // The intake form: only the chosen category's questions are shown. Without script
  // every category's show, and the server takes the chosen one's answers only.
  var intake = document.getElementById('intake');
  if (intake && intake.elements.category) {
    var chosen = function () {
      var code = intake.elements.category.value;
      var blocks = intake.querySelectorAll('fieldset.questions');
      for (var i = 0; i < blocks.length; i++) {
        blocks[i].hidden = blocks[i].getAttribute('data-category') !== code;
      }
    };
    intake.elements.category.addEventListener('change', chosen);
    chosen();
  }

  // The terminal: a clock in Asia/Shanghai, and new linkage messages on top.
  var clock = document.querySelector('[data-clock]');
  if (clock && window.Intl) {
    var fmt = new Intl.DateTimeFormat('zh-CN', {
      timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false
    });
    var tick = function () { clock.textContent = fmt.format(new Date()); };
    tick();
    setInterval(tick, 1000);
  }
  var feed = document.querySelector('[data-feed]');
  if (feed) {
    var es = new EventSource(feed.getAttribute('data-feed'));
    es.addEventListener('entry', function (ev) {
      if (ev.lastEventId && feed.querySelector('[data-seq="' + ev.lastEventId + '"]')) return;
      var empty = feed.querySelector('.empty');
      if (empty) empty.remove();
      feed.insertAdjacentHTML('afterbegin', ev.data);
      if (feed.firstElementChild) feed.firstElementChild.classList.add('fresh');
      while (feed.children.length > 60) feed.lastElementChild.remove();
    });
  }
})();

// The receipt slip's print button.
document.querySelectorAll('[data-print]').forEach(function (b) {
  b.addEventListener('click', function () { window.print(); });
});

// Forms with a role picker (the admin's accounts and tokens) show only the fields that
// role is bound by (data-for-role); a hidden field is disabled, so it is not sent.
document.querySelectorAll('form select[name="role"]').forEach(function (role) {
  var form = role.form;
  function show() {
    form.querySelectorAll('[data-for-role]').forEach(function (field) {
      var on = field.getAttribute('data-for-role') === role.value;
      field.hidden = !on;
      field.querySelectorAll('select, input').forEach(function (c) { c.disabled = !on; });
    });
  }
  role.addEventListener('change', show);
  show();
});
