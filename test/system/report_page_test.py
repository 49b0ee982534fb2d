"""The report page (docs/report.md "The report page") rendered by a real browser.

A live and a shadow backend (real HTTP servers on 127.0.0.1) answer the same JSON, except that
the shadow renames the user (`name`: "Ann" becomes "ann") on /users/N and answers 500 on
/orders/N. The real parallax mirrors 100% of the route `api`. After a known set of requests,
once the admin's /report shows them all compared (comparisons are asynchronous: polled, with a
deadline), Debian's Chromium (headless) loads
- the admin's /report.html#filter=users, and
- the page `parallax report --format html` writes from the discrepancy log (#filter=orders),
and the DOM it dumps after the inline script ran must show both endpoints, the differing
fields with their counts, the example values live vs shadow with record ids, the window, the
route's shadow upstream and percent, and the endpoint that does not match the filter hidden.
A screenshot of the admin's unfiltered page is kept as BUILD_DIR/report_page.png.

Local helpers beyond harness.py: Chromium runs (a throwaway profile per run) and a small DOM
reader (html.parser).
"""

import html.parser
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Backend, Parallax, arguments, check, fail, get_json, request,  # noqa: E402
                     scratch_dir, wait_for)

CHROMIUM = "/usr/bin/chromium"
USERS = 6   # GET /users/1..6: the shadow's `name` differs
ORDERS = 4  # GET /orders/1..4: the shadow answers 500
COMPARE_DEADLINE = 15.0  # seconds for every comparison to show in /report
BROWSER_TIMEOUT = 90     # seconds for one Chromium run


def backend(shadow):
    def respond(method, path, body):
        if path.startswith("/orders/"):
            if shadow:
                return 500, "application/json", b'{"error":"boom"}'
            return 200, "application/json", b'{"order":"%s","state":"paid"}' % path[8:].encode()
        name = "ann" if shadow else "Ann"
        return 200, "application/json", ('{"id":%s,"name":"%s"}' % (path[7:], name)).encode()
    return Backend(respond)


def chromium(args, profile_root, name):
    """Runs headless Chromium with a throwaway profile; returns its standard output."""
    profile = os.path.join(profile_root, "profile-" + name)
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--user-data-dir=" + profile, *args]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT)
    except subprocess.TimeoutExpired:
        fail("chromium did not finish within %d s: %s" % (BROWSER_TIMEOUT, " ".join(command)))
    check(done.returncode == 0, "chromium exited %d: %s" % (done.returncode, done.stderr[-2000:]))
    return done.stdout


class Dom(html.parser.HTMLParser):
    """What the checks read from a dumped DOM: the text, and the elements with data-filter
    (whether each one is hidden)."""

    def __init__(self, text):
        super().__init__()
        self.text = []
        self.filtered = {}  # data-filter -> [hidden, ...] (a row and a section per endpoint)
        self.ids = {}       # id -> the text inside (for the few elements with an id read here)
        self._open_id = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-filter" in attrs:
            self.filtered.setdefault(attrs["data-filter"], []).append("hidden" in attrs)
        if attrs.get("id") in ("since", "until", "shown"):
            self._open_id = attrs["id"]
            self.ids[self._open_id] = ""

    def handle_endtag(self, tag):
        if tag in ("time", "span"):
            self._open_id = None

    def handle_data(self, data):
        self.text.append(data)
        if self._open_id:
            self.ids[self._open_id] += data

    def all_text(self):
        return " ".join(" ".join(self.text).split())


def check_page(dom_text, where, shown, hidden):
    """The checks every rendering of this traffic's page must pass."""
    dom = Dom(dom_text)
    text = dom.all_text()
    for expected in ["GET /users/{id}", "GET /orders/{id}",              # the endpoints
                     "body /name", "status 200 -> 500",                  # the differing fields
                     '"Ann"', '"ann"', "200", "500",                     # example values
                     "compared %d" % USERS, "differ %d" % USERS]:
        check(expected in text, "%s: %r not on the page; text: %s" % (where, expected, text[:3000]))
    check(dom.ids.get("since") and dom.ids.get("until"), "%s: no window: %r" % (where, dom.ids))
    # Example record ids: 26 Crockford base32 characters each, 3 per differing field.
    ids = [w for w in text.split() if len(w) == 26 and w.isalnum() and w.isupper()]
    check(len(ids) >= 6, "%s: expected example record ids, found %r" % (where, ids))
    # The inline script ran: the filter from the URL hid the other endpoint (row and section).
    check(dom.filtered.get(shown) == [False, False],
          "%s: %r should be shown: %r" % (where, shown, dom.filtered))
    check(dom.filtered.get(hidden) == [True, True],
          "%s: %r should be hidden by the filter: %r" % (where, hidden, dom.filtered))
    check(dom.ids.get("shown") == "1 of 2", "%s: filter count %r" % (where, dom.ids.get("shown")))
    return text


def main():
    args = arguments()
    check(os.access(CHROMIUM, os.X_OK), CHROMIUM + " is missing (scripts/setup installs it)")
    live, shadow = backend(False), backend(True)
    with scratch_dir("report-page") as work:
        log = os.path.join(work, "discrepancies.jsonl")
        config = f"""version: 1
listeners: [{{ name: public, address: "127.0.0.1:0" }}]
admin: {{ address: "127.0.0.1:0" }}
upstreams:
  live: {{ endpoints: ["{live.address}"] }}
  preview: {{ endpoints: ["{shadow.address}"] }}
routes:
  - name: api
    upstream: live
    mirror: {{ upstream: preview, percent: 100 }}
reports:
  discrepancies: {{ path: "{log}" }}
"""
        proxy = Parallax(args.binary, config, work)
        try:
            for i in range(1, USERS + 1):
                status, _, _ = request("%s/users/%d" % (proxy.url, i))
                check(status == 200, "GET /users/%d: %d" % (i, status))
            for i in range(1, ORDERS + 1):
                status, _, _ = request("%s/orders/%d" % (proxy.url, i))
                check(status == 200, "GET /orders/%d: %d" % (i, status))
            wait_for("%d exchanges compared in /report" % (USERS + ORDERS),
                     lambda: get_json(proxy.admin + "/report")["totals"]["compared"]
                     >= USERS + ORDERS,
                     COMPARE_DEADLINE, poll=0.05)

            # The admin's page, filtered from the URL.
            dom = chromium(["--dump-dom", proxy.admin + "/report.html#filter=users"], work, "admin")
            text = check_page(dom, "admin /report.html", "get /users/{id} api",
                              "get /orders/{id} api")
            check("preview" in text and "100%" in text,
                  "admin page: no route with its shadow upstream and percent")
            # A screenshot of the whole admin page, unfiltered, for people to look at.
            screenshot = os.path.join(args.build_dir, "report_page.png")
            if os.path.exists(screenshot):
                os.remove(screenshot)
            chromium(["--screenshot=" + screenshot, "--window-size=1280,1600",
                      "--hide-scrollbars", proxy.admin + "/report.html"], work, "screenshot")
            check(os.path.exists(screenshot) and os.path.getsize(screenshot) > 10000,
                  "no screenshot at " + screenshot)
        finally:
            code = proxy.stop()
            live.close()
            shadow.close()
        check(code == 0, "parallax exited %d:\n%s" % (code, proxy.lines()))

        # The page of `parallax report --format html` on the log (flushed at exit).
        page = os.path.join(work, "report.html")
        done = subprocess.run([args.binary, "report", "--format", "html", "--out", page, log],
                              capture_output=True, text=True, timeout=60)
        check(done.returncode == 0,
              "parallax report exited %d: %s" % (done.returncode, done.stderr))
        dom = chromium(["--dump-dom", "file://" + page + "#filter=orders"], work, "file")
        check_page(dom, "parallax report --format html", "get /orders/{id} api",
                   "get /users/{id} api")

    print("ok: the report page shows both endpoints, fields, examples; the filter ran; "
          "screenshot " + screenshot)


if __name__ == "__main__":
    main()
