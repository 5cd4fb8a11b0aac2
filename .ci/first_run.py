"""CI: the newcomer's first run, walked end to end on a fresh clone.

Clones the committed tree into a temporary folder, runs the README's run
command there (`make run`, on the embedded PostgreSQL: no DATABASE_URL, no
REDIS_URL) on a free port, and walks the store as a shopper over HTTP: the
home page lists products, a search finds one, register, log out and in,
two products into the cart, check out, pay with the test card, see the
paid order. Then staff log into the admin with the login `make run`
printed and open that order. Ctrl-C (SIGINT to the command's process
group, as a terminal sends it) must stop everything: nothing left
listening, no server process left, no traceback in the log.

Standard library only: it runs before the project's virtualenv exists.

    python3 .ci/first_run.py [--keep]
"""

import argparse
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
START_TIMEOUT = 300
STOP_TIMEOUT = 60
APPROVED_CARD = "4242424242424242"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([\w-]+)" value="([^"]*)"')
PRODUCT_LINK = re.compile(r'href="/products/([\w-]+)/"')
LOGIN_LINE = re.compile(r"email (\S+@\S+)\s+password (\S+)")
ORDER_PATH = re.compile(r"^/orders/([A-Z0-9-]+)/$")


def say(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


class WalkFailed(Exception):
    pass


def check(condition, what):
    if not condition:
        raise WalkFailed(what)


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A cookie jar and the forms' CSRF tokens, as a browser keeps them."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            NoRedirects,
        )

    def request(self, method, path, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(
            self.base_url + path,
            data=data,
            method=method,
            headers={"Referer": self.base_url + path},
        )
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode()

    def get(self, path, expect=200):
        status, _, body = self.request("GET", path)
        check(status == expect, f"GET {path} answered {status}, not {expect}")
        return body

    def submit(self, path, form, *, page=None, expect=302):
        """POST a form with the CSRF token of the page it is on; the Location."""
        shown = self.get(page or path)
        token = CSRF_INPUT.search(shown)
        check(token, f"{page or path} has no CSRF-protected form")
        status, headers, body = self.request(
            "POST", path, {"csrfmiddlewaretoken": token[1], **form}
        )
        if status != expect:
            errors = re.findall(r'class="[^"]*error[^"]*"[^>]*>([^<]+)<', body)
            raise WalkFailed(f"POST {path} answered {status}, not {expect}: {errors}")
        return headers.get("Location", "")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def newcomer_environment():
    """This environment without anything that names a server or a mode."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "EMBEDDED_", "STORE_")
        )
    }


def processes_under(folder):
    """Processes whose command line names the clone's folder."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(folder) in command:
            found.append(f"{entry.name}: {command.strip()}")
    return found


def shop(base_url, log_text):
    """The shopper's and the staff member's walk; the paid order's number."""
    shopper = Browser(base_url)

    home = shopper.get("/")
    slugs = list(dict.fromkeys(PRODUCT_LINK.findall(home)))
    check(len(slugs) >= 2, f"the home page lists {len(slugs)} products")
    say(f"  home page lists {len(slugs)} products")

    product_page = shopper.get(f"/products/{slugs[0]}/")
    name = re.search(r"<h1[^>]*>([^<]+)</h1>", product_page)
    check(name, f"/products/{slugs[0]}/ has no heading")
    word = max(name[1].split(), key=len)
    found = shopper.get("/products/?" + urllib.parse.urlencode({"search": word}))
    check(f'href="/products/{slugs[0]}/"' in found, f"searching {word!r} misses it")
    say(f"  search {word!r} finds /products/{slugs[0]}/")

    email = f"first-run-{uuid.uuid4().hex[:8]}@example.com"
    password = f"first-run-{uuid.uuid4().hex}"
    shopper.submit(
        "/accounts/register/",
        {
            "email": email,
            "first_name": "First",
            "last_name": "Run",
            "password1": password,
            "password2": password,
        },
    )
    shopper.submit("/accounts/logout/", {}, page="/account/")
    shopper.submit("/accounts/login/", {"username": email, "password": password})
    check(email in shopper.get("/account/"), "the account page does not show the login")
    say(f"  registered, logged out and logged in as {email}")

    for slug in slugs[:2]:
        page = shopper.get(f"/products/{slug}/")
        product = re.search(r'name="product" value="(\d+)"', page)
        check(product, f"/products/{slug}/ has no Add to cart form")
        fields = {"product": product[1], "quantity": "1"}
        # A product sold in options adds the variant its page has chosen.
        variant = re.search(r'name="variant" value="(\d+)"', page)
        if variant:
            fields["variant"] = variant[1]
        where = shopper.submit("/cart/add/", fields, page=f"/products/{slug}/")
        check(where == "/cart/", f"adding {slug} led to {where!r}")
    cart = shopper.get("/cart/")
    check(
        all(f'href="/products/{slug}/"' in cart for slug in slugs[:2]),
        "the cart does not show both products",
    )
    say("  two products in the cart")

    checkout = shopper.get("/checkout/")
    hidden = dict(HIDDEN_INPUT.findall(checkout))
    # The demo store ships to the US by its own methods: the first offered,
    # with the total the page showed for it (each method has its own).
    method = re.search(r'name="shipping_method" value="([\w-]+)"', checkout)
    check(method, "the checkout offers no shipping method for the demo store")
    where = shopper.submit(
        "/checkout/",
        {
            "address": "new",
            "full_name": "First Run",
            "line1": "1 Clone Street",
            "city": "Springfield",
            "postal_code": "12345",
            "country": "US",
            "shipping_method": method[1],
            "expected_total": hidden.get("expected_total", ""),
            f"expected_total_{method[1]}": hidden.get(
                f"expected_total_{method[1]}", ""
            ),
            "idempotency_key": hidden.get("idempotency_key", ""),
        },
    )
    say(f"  shipped by {method[1]}")
    number = ORDER_PATH.match(urllib.parse.urlsplit(where).path)
    check(number, f"checking out led to {where!r}, not an order page")
    order_path = f"/orders/{number[1]}/"
    shopper.submit(f"{order_path}pay/", {"card_number": APPROVED_CARD}, page=order_path)
    order_page = shopper.get(order_path)
    check("status-paid" in order_page, f"{order_path} does not show the order paid")
    say(f"  order {number[1]} placed and paid with the test card")

    logins = dict(LOGIN_LINE.findall(log_text))
    staff = [(login, secret) for login, secret in logins.items() if "staff" in login]
    check(staff, "`make run` printed no staff login")
    staff_email, staff_password = staff[0]
    admin = Browser(base_url)
    admin.submit(
        "/admin/login/",
        {"username": staff_email, "password": staff_password},
        page="/admin/login/?next=/admin/",
    )
    found = admin.get(
        "/admin/orders/order/?" + urllib.parse.urlencode({"q": number[1]})
    )
    change = re.search(r'href="(/admin/orders/order/\d+/change/[^"]*)"', found)
    check(change, f"the admin's order list has no {number[1]}")
    check(number[1] in admin.get(change[1].replace("&amp;", "&")), "order page")
    say(f"  staff {staff_email} opened order {number[1]} in the admin")
    return number[1]


def walk(keep):
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="shopswift-first-run-"))
    # As root the embedded PostgreSQL runs as another account, which must
    # reach the clone's data folder, as under a user's home on a laptop.
    folder.chmod(0o755)
    clone = folder / "shopswift"
    log_path = folder / "make-run.log"
    process = None
    try:
        subprocess.run(
            ["git", "clone", "--quiet", str(REPOSITORY), str(clone)], check=True
        )
        check(not (clone / ".data").exists(), "the clone has a data folder")
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                ["make", "run", f"PORT={port}"],
                cwd=clone,
                env=newcomer_environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own process group, which gets the SIGINT below, as
                # the terminal's foreground group gets a Ctrl-C.
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                Browser(base_url).get("/")
                break
            except (WalkFailed, OSError):
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise WalkFailed(
                    f"`make run` did not serve within {START_TIMEOUT} s:\n"
                    + log_path.read_text()[-3000:]
                )
            time.sleep(0.5)
        first_page = time.monotonic() - started
        say(f"first page answered {first_page:.1f} s after the clone began")

        shop(base_url, log_path.read_text())

        stop_began = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise WalkFailed(
                f"`make run` still runs {STOP_TIMEOUT} s after Ctrl-C"
            ) from None
        say(f"Ctrl-C stopped it in {time.monotonic() - stop_began:.1f} s")
        check(not listening(port), f"something still listens on port {port}")
        left = processes_under(clone)
        check(not left, "processes left behind:\n" + "\n".join(left))
        log_text = log_path.read_text()
        check("Traceback" not in log_text, "the log has a traceback:\n" + log_text)
        check(
            "Stopping the embedded PostgreSQL" in log_text,
            "the embedded PostgreSQL was not stopped",
        )
        say(f"first run walked in {time.monotonic() - started:.1f} s")
    except WalkFailed:
        if log_path.exists():
            sys.stderr.write(log_path.read_text()[-5000:])
        raise
    finally:
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for line in processes_under(clone):
            os.kill(int(line.split(":")[0]), signal.SIGKILL)
        if keep:
            say(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the clone")
    args = parser.parse_args()
    try:
        walk(args.keep)
    except WalkFailed as failure:
        sys.stderr.write(f"first run FAILED: {failure}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
