#!/usr/bin/env python
"""Soak: a bounded mixed load against gunicorn on PostgreSQL and Redis.

Starts the store with production settings (plain HTTP, loopback only) and
sends, from several client threads for --duration seconds, what shoppers
and bots send: catalog browsing and searches (API and pages), cart
changes, checkouts, payments (approved and declined) and cancellations,
and a share of bad requests (malformed JSON, NUL characters, impossible
quantities, unknown products, forged tokens, others' orders, page forms
without their CSRF token). Shoppers on the pages behave as a browser
does: anonymous visitors read the catalog and product pages and fill a
session cart through the product page's form (the page fetched first,
its cookies kept and its csrfmiddlewaretoken sent back), and a share of
buyers log in through the login page and check out through the cart,
checkout and order pages, paying with the page's form. It samples the
resident memory (RSS) of every gunicorn worker as it goes, then checks:

- no answer is a 5xx and no connection fails, and every step of a page
  flow answers as a browser expects (a refused CSRF check, a redirect to
  the login page or a cart that does not show what was added counts as a
  failure);
- no product is oversold: for every product, the stock on hand plus the
  units in orders that were not cancelled equals its starting stock, and
  `reconcile_stock` finds no drift in the stock ledger;
- worker memory levels off: the workers' RSS over the last third of the
  run stays within 10 % (plus 8 MiB) of what it was at the end of the
  first third, once the caches have warmed up.

It prints the figures (requests, per kind, statuses, rate, latency,
memory samples) and exits non-zero if a check fails.

    .venv/bin/python bench/soak.py --duration 600        # the long run
    .venv/bin/python bench/soak.py --duration 45 --json figures.json

The database (SOAK_DATABASE_URL, else a `shopswift_soak` database on the
DATABASE_URL server, else on 127.0.0.1:5432) is created when missing and
migrated; each run seeds its own products and shoppers, named after the
run. Redis: SOAK_REDIS_URL (default redis://127.0.0.1:6379/1).
"""

import argparse
import http.client
import json
import os
import random
import re
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import servers
from servers import ROOT, SHIPPING_ADDRESS

PYTHON = sys.executable
APPROVED_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
SEARCH_WORDS = ["kettle", "tea", "blue", "mug", "pot", "zzz", "Item 1", "SKU"]
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
HIDDEN_INPUT = re.compile(rb'<input type="hidden" name="(\w+)" value="([^"]*)"')
ORDER_PATH = re.compile(r"^/orders/[A-Z0-9-]+/$")
REMOVE_ACTION = re.compile(rb'action="(/cart/items/\d+/remove/)"')


def soak_database_url():
    if os.environ.get("SOAK_DATABASE_URL"):
        return os.environ["SOAK_DATABASE_URL"]
    base = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/x"
    return urlunsplit(urlsplit(base)._replace(path="/shopswift_soak"))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds of load")
    parser.add_argument("--database-url", default=soak_database_url())
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("SOAK_REDIS_URL") or "redis://127.0.0.1:6379/1",
    )
    parser.add_argument("--port", type=int, default=18850)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--concurrency", type=int, default=6, help="client threads")
    parser.add_argument("--products", type=int, default=30)
    parser.add_argument("--shoppers", type=int, default=24)
    parser.add_argument(
        "--page-shoppers",
        type=int,
        default=6,
        help="of the shoppers, those who log in and buy through the pages "
        "(one per client thread, shared when fewer)",
    )
    parser.add_argument("--stock", type=int, default=40, help="units per product")
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    if not 5 <= args.duration <= 3600:
        parser.error("--duration must be between 5 and 3600 seconds")
    if not 1 <= args.concurrency <= 32:
        parser.error("--concurrency must be between 1 and 32")
    if not 1 <= args.workers <= 8:
        parser.error("--workers must be between 1 and 8")
    if not 1 <= args.page_shoppers < args.shoppers:
        parser.error("--page-shoppers must be at least 1 and below --shoppers")
    return args


def say(text=""):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def seed(run, args):
    """This run's category, products and shoppers; return ids, tokens, stock.

    The first --page-shoppers shoppers buy through the pages, logging in
    with a password (one Argon2 hash shared by all); the others through
    the API, with an access token each.
    """
    from django.contrib.auth.hashers import make_password
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from catalog import services
    from catalog.models import Category

    category = Category.objects.create(name=f"Soak {run}", slug=f"soak-{run.lower()}")
    products = [
        services.create_product(
            sku=f"S{run}-{index:03d}",
            name=f"Soak item {index} {random.choice(SEARCH_WORDS)} {run}",
            category=category,
            price=f"{random.randint(100, 6000) / 100:.2f}",
            stock=args.stock,
        )
        for index in range(args.products)
    ]
    password = f"soak {run} passphrase"
    hashed = make_password(password)
    shoppers = User.objects.bulk_create(
        User(email=f"soak-{run.lower()}-{n}@example.com", password=hashed)
        for n in range(args.shoppers)
    )
    page_shoppers = shoppers[: args.page_shoppers]
    return (
        [(product.pk, product.slug) for product in products],
        [str(AccessToken.for_user(user)) for user in shoppers[args.page_shoppers :]],
        [(user.email, password) for user in page_shoppers],
        {product.pk: product.stock for product in products},
        category.slug,
    )


def start_server(args, environment, log):
    command = [str(Path(PYTHON).with_name("gunicorn")), "-c", "deploy/gunicorn.conf.py"]
    return servers.start_gunicorn(
        command, cwd=ROOT, environment=environment, port=args.port, log=log
    )


def worker_rss_kib(server):
    """{pid: resident KiB} of the gunicorn master's children (the workers)."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    sizes = {}
    for pid in children.read_text().split() if children.exists() else []:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                sizes[int(pid)] = int(line.split()[1])
    return sizes


def expected(status, allowed):
    """The status as recorded: a page flow's unexpected answer is a failure."""
    if status in allowed or not isinstance(status, int):
        return (status,)
    return (f"unexpected {status}",)


class Shopper:
    """One client thread's connection and the state of its current shopper."""

    def __init__(self, args, rng, products, tokens, category, login):
        self.args = args
        self.rng = rng
        self.products = products
        self.tokens = tokens
        self.category = category
        # This thread's page buyer, (email, password), is one browser: it logs
        # in once, on its first checkout (early: Argon2 takes a worker's CPU
        # and, briefly, 100 MiB), and keeps its session's cookies.
        self.login = login
        self.session = None
        self.logins = 0
        self.connection = None
        self.location = ""  # the last answer's Location header
        self.orders = []  # (order id, token) this thread placed
        self.placed = Counter()  # orders placed: api, pages
        self.paid_on_pages = 0
        self.session_carts_filled = 0

    def request(
        self,
        method,
        path,
        body=None,
        token=None,
        raw=None,
        headers=None,
        cookies=None,
        form=None,
    ):
        """(status, body) of one request; `cookies`, a dict, is sent and updated."""
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if form is not None:
            data = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if data is not None:
            headers.setdefault("Content-Type", "application/json")
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(
                    "127.0.0.1", self.args.port, timeout=30
                )
            try:
                self.connection.request(method, path, data, headers)
                response = self.connection.getresponse()
                payload = response.read()
                self.location = response.getheader("Location", "")
                if cookies is not None:
                    for header in response.msg.get_all("Set-Cookie") or []:
                        for name, morsel in SimpleCookie(header).items():
                            cookies[name] = morsel.value
                if response.getheader("Connection", "").lower() == "close":
                    self.connection.close()
                    self.connection = None
                return response.status, payload
            except (OSError, http.client.HTTPException) as error:
                self.connection.close()
                self.connection = None
                # A kept-alive connection that the server closed meanwhile
                # is retried once on a new one; anything else is an error.
                if attempt == 2 or not isinstance(
                    error, (http.client.RemoteDisconnected, BrokenPipeError)
                ):
                    return type(error).__name__, b""
        return "unreachable", b""

    # --- What shoppers do --------------------------------------------------------

    def browse(self):
        _, slug = self.rng.choice(self.products)
        path = self.rng.choice(
            [
                "/api/v1/products/",
                f"/api/v1/products/{slug}/",
                f"/api/v1/products/?category={self.category}&page_size=10",
                "/api/v1/categories/",
            ]
        )
        return [("browse", *self.request("GET", path))]

    def pages(self):
        """An anonymous visitor reading the catalog's pages."""
        _, slug = self.rng.choice(self.products)
        path = self.rng.choice(
            [
                "/",
                "/products/",
                "/products/?page=2",
                f"/products/{slug}/",
                f"/products/{slug}/",
                f"/categories/{self.category}/",
            ]
        )
        return [("pages", *self.request("GET", path))]

    def search(self):
        word = self.rng.choice(SEARCH_WORDS).replace(" ", "+")
        ordering = self.rng.choice(["price", "-price", "name", "-created_at"])
        path = self.rng.choice(
            [
                f"/api/v1/products/?search={word}&ordering={ordering}",
                f"/api/v1/products/?min_price=5&max_price=40&in_stock=true&search={word}",
                f"/products/?search={word}&ordering={ordering}",
            ]
        )
        return [("search", *self.request("GET", path))]

    def cart(self):
        token = self.rng.choice(self.tokens)
        pk, _ = self.rng.choice(self.products)
        answers = [
            (
                "cart",
                *self.request(
                    "POST",
                    "/api/v1/cart/items/",
                    {"product": pk, "quantity": self.rng.randint(1, 3)},
                    token,
                ),
            )
        ]
        status, payload = self.request("GET", "/api/v1/cart/", token=token)
        answers.append(("cart", status, payload))
        if status == 200 and self.rng.random() < 0.3:
            items = json.loads(payload)["items"]
            if items:
                line = self.rng.choice(items)["id"]
                if self.rng.random() < 0.5:
                    answers.append(
                        (
                            "cart",
                            *self.request(
                                "PATCH",
                                f"/api/v1/cart/items/{line}/",
                                {"quantity": self.rng.randint(1, 4)},
                                token,
                            ),
                        )
                    )
                else:
                    answers.append(
                        (
                            "cart",
                            *self.request(
                                "DELETE", f"/api/v1/cart/items/{line}/", token=token
                            ),
                        )
                    )
        return answers

    def checkout(self):
        token = self.rng.choice(self.tokens)
        status, payload = self.request(
            "POST",
            "/api/v1/orders/",
            {"shipping_address": SHIPPING_ADDRESS},
            token,
            headers={"Idempotency-Key": secrets.token_hex(16)},
        )
        answers = [("checkout", status, payload)]
        if status == 201:
            order = json.loads(payload)["id"]
            self.orders.append((order, token))
            self.placed["api"] += 1
            roll = self.rng.random()
            if roll < 0.6:
                card = APPROVED_CARD if self.rng.random() < 0.85 else DECLINED_CARD
                answers.append(
                    (
                        "payment",
                        *self.request(
                            "POST",
                            f"/api/v1/orders/{order}/pay/",
                            {"payment_method": "test-card", "card_number": card},
                            token,
                        ),
                    )
                )
            elif roll < 0.75:
                answers.append(
                    (
                        "payment",
                        *self.request(
                            "POST", f"/api/v1/orders/{order}/cancel/", token=token
                        ),
                    )
                )
        return answers

    # --- Shoppers on the pages, as a browser --------------------------------------

    def page_get(self, kind, path, cookies, expect=(200,), form=True):
        """GET a page with the session's cookies; (answer, its form's token).

        A page shown (200) without the form it must carry is a failure.
        """
        status, payload = self.request("GET", path, cookies=cookies)
        found = CSRF_INPUT.search(payload) if status == 200 else None
        answer = (kind, *expected(status, expect), payload)
        if status == 200 and form and not found:
            answer = (kind, f"unexpected {path} without its form", b"")
        return answer, found[1].decode() if found else None

    def page_post(self, kind, path, cookies, token, data, expect):
        """POST a page's form with its token, as the browser sends it."""
        status, payload = self.request(
            "POST",
            path,
            cookies=cookies,
            form={"csrfmiddlewaretoken": token, **data},
            headers={"Referer": f"http://127.0.0.1:{self.args.port}{path}"},
        )
        return (kind, *expected(status, expect), payload)

    def add_on_page(self, kind, cookies):
        """The product page, then its `Add to cart` form: the answers, and if added."""
        pk, slug = self.rng.choice(self.products)
        shown, token = self.page_get(kind, f"/products/{slug}/", cookies)
        if token is None:
            return [shown], False
        added = self.page_post(
            kind,
            "/cart/add/",
            cookies,
            token,
            {"product": pk, "quantity": self.rng.randint(1, 2)},
            # 409: the product page again, saying what is left.
            expect=(302, 409),
        )
        if added[1] == 302 and self.location != "/cart/":
            added = (kind, f"unexpected redirect to {self.location}", b"")
        answers = [shown, added]
        if added[1] != 302:
            return answers, False
        cart, _ = self.page_get(kind, "/cart/", cookies, form=False)
        if cart[1] == 200 and f'href="/products/{slug}/"'.encode() not in cart[2]:
            cart = (kind, "unexpected cart without the added line", b"")
        answers.append(cart)
        return answers, cart[1] == 200

    def page_cart(self):
        """A visitor fills a session cart through the product pages' form."""
        cookies = {}
        answers = []
        for _ in range(self.rng.randint(1, 2)):
            more, added = self.add_on_page("page_cart", cookies)
            answers += more
            if not added:
                break
            self.session_carts_filled += 1
        return answers

    def log_in(self, email, password):
        """Log in through the login page; the session's cookies, or None."""
        cookies = {}
        shown, token = self.page_get("page_checkout", "/accounts/login/", cookies)
        if token is None:
            return [shown], None
        answer = self.page_post(
            "page_checkout",
            "/accounts/login/",
            cookies,
            token,
            {"username": email, "password": password},
            expect=(302,),
        )
        if answer[1] != 302 or "sessionid" not in cookies:
            return [shown, answer], None
        return [shown, answer], cookies

    def page_checkout(self):
        """The thread's buyer (logged in once) adds, checks out and pays."""
        answers = []
        cookies = self.session
        if cookies is None:
            self.logins += 1
            answers, cookies = self.log_in(*self.login)
            if cookies is None:
                return answers
            self.session = cookies
        more, added = self.add_on_page("page_checkout", cookies)
        answers += more
        if not added:
            return answers
        # Another thread's buyer (when there are more threads than page
        # buyers) may have checked this cart out since: the checkout then
        # sends back to the (empty) cart.
        shown, token = self.page_get(
            "page_checkout", "/checkout/", cookies, expect=(200, 302)
        )
        answers.append(shown)
        if token is None:
            return answers
        hidden = dict(HIDDEN_INPUT.findall(shown[2]))
        placed = self.page_post(
            "page_checkout",
            "/checkout/",
            cookies,
            token,
            {
                "address": "new",
                **SHIPPING_ADDRESS,
                "expected_total": hidden[b"expected_total"].decode(),
                "idempotency_key": hidden[b"idempotency_key"].decode(),
            },
            # 409: the stock no longer covers the cart (or another thread
            # changed it); the page says which line.
            expect=(302, 409),
        )
        answers.append(placed)
        if placed[1] == 409:
            # As a shopper would: out with what cannot be had, to buy again.
            return answers + self.empty_cart_on_page(cookies)
        order_path = self.location if placed[1] == 302 else ""
        if not ORDER_PATH.match(order_path):
            if placed[1] == 302 and order_path != "/cart/":
                answers[-1] = (
                    "page_checkout",
                    f"unexpected redirect to {order_path}",
                    b"",
                )
            return answers
        self.placed["pages"] += 1
        order, token = self.page_get("page_checkout", order_path, cookies)
        answers.append(order)
        if token is not None and self.rng.random() < 0.7:
            card = APPROVED_CARD if self.rng.random() < 0.85 else DECLINED_CARD
            paid = self.page_post(
                "page_checkout",
                f"{order_path}pay/",
                cookies,
                token,
                {"card_number": card},
                expect=(302,),
            )
            answers.append(paid)
            self.paid_on_pages += paid[1] == 302
        return answers

    def empty_cart_on_page(self, cookies):
        """The cart page's Remove button, line by line."""
        cart, token = self.page_get("page_checkout", "/cart/", cookies, form=False)
        answers = [cart]
        for line in REMOVE_ACTION.findall(cart[2])[:5] if token else []:
            answers.append(
                self.page_post(
                    "page_checkout",
                    line.decode(),
                    cookies,
                    token,
                    {},
                    expect=(302,),
                )
            )
        return answers

    def bad(self):
        token = self.rng.choice(self.tokens)
        pk, slug = self.rng.choice(self.products)
        others = [order for order, owner in self.orders if owner != token]
        choice = self.rng.randrange(11)
        if choice == 0:
            answer = self.request(
                "POST", "/api/v1/cart/items/", raw=b'{"product": ', token=token
            )
        elif choice == 1:
            answer = self.request("GET", "/api/v1/products/?search=a%00b")
        elif choice == 2:
            answer = self.request(
                "POST",
                "/api/v1/cart/items/",
                {"product": pk, "quantity": self.rng.choice([-5, 0, 10**9, "x"])},
                token,
            )
        elif choice == 3:
            answer = self.request(
                "POST", "/api/v1/cart/items/", {"product": 10**12, "quantity": 1}, token
            )
        elif choice == 4:
            answer = self.request("GET", "/api/v1/orders/", token=token[:-4] + "AAAA")
        elif choice == 5 and others:
            answer = self.request(
                "GET", f"/api/v1/orders/{self.rng.choice(others)}/", token=token
            )
        elif choice == 6:
            answer = self.request("GET", "/api/v1/products/?page=99999")
        elif choice == 7:
            answer = self.request("GET", f"/products/{slug}-nope/")
        elif choice == 9:
            # A page form without its CSRF token (a forged cross-site post).
            answer = self.request(
                "POST", "/cart/add/", form={"product": pk, "quantity": 1}
            )
        elif choice == 10:
            answer = self.request(
                "GET", f"/products/?search=%3Cscript%3E{slug}&page=x%00"
            )
        else:
            answer = self.request(
                "POST",
                "/api/v1/orders/",
                raw=b"[" * 50_000,
                token=token,
            )
        return [("bad", *answer)]


# What each client thread picks next, by weight (percent). `pages`,
# `page_cart` and `page_checkout` are the browser's share: the catalog's
# pages, a session cart filled through the product page's form, and a
# logged-in buyer checking out (and paying) through the pages.
MIX = [
    ("browse", 18),
    ("pages", 15),
    ("search", 10),
    ("cart", 20),
    ("page_cart", 6),
    ("checkout", 12),
    ("page_checkout", 4),
    ("bad", 15),
]


def run_load(args, products, tokens, logins, category, server):
    deadline = time.monotonic() + args.duration
    results = []
    lock = threading.Lock()
    samples = []
    shoppers = []
    kinds = [kind for kind, _ in MIX]
    weights = [weight for _, weight in MIX]

    def client(number):
        rng = random.Random(args.seed + number)
        login = logins[number % len(logins)]
        shopper = Shopper(args, rng, products, tokens, category, login)
        with lock:
            shoppers.append(shopper)
        mine = []
        # Bounded twice: by the deadline, and by a request count no run reaches.
        for _ in range(1_000_000):
            if time.monotonic() >= deadline:
                break
            kind = rng.choices(kinds, weights)[0]
            start = time.perf_counter()
            answers = getattr(shopper, kind)()
            elapsed = (time.perf_counter() - start) / len(answers)
            mine += [(name, str(status), elapsed) for name, status, _ in answers]
        with lock:
            results.extend(mine)

    threads = [
        threading.Thread(target=client, args=(number,), daemon=True)
        for number in range(args.concurrency)
    ]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    interval = max(1.0, args.duration / 30)
    while any(thread.is_alive() for thread in threads):
        samples.append((round(time.monotonic() - start, 1), worker_rss_kib(server)))
        time.sleep(interval)
    for thread in threads:
        thread.join(timeout=60)
    samples.append((round(time.monotonic() - start, 1), worker_rss_kib(server)))
    flows = {
        "orders_placed": {
            "api": sum(shopper.placed["api"] for shopper in shoppers),
            "pages": sum(shopper.placed["pages"] for shopper in shoppers),
        },
        "paid_on_pages": sum(shopper.paid_on_pages for shopper in shoppers),
        "session_cart_adds": sum(shopper.session_carts_filled for shopper in shoppers),
        "page_logins": sum(shopper.logins for shopper in shoppers),
    }
    return results, time.monotonic() - start, samples, flows


def check_stock(starting):
    from django.core.management import call_command
    from django.db.models import Sum

    from catalog.models import Product
    from orders.models import Order, OrderItem

    kept = dict(
        OrderItem.objects.filter(product_id__in=starting)
        .exclude(order__status=Order.Status.CANCELLED)
        .values_list("product_id")
        .annotate(units=Sum("quantity"))
    )
    sold = sum(kept.values())
    mismatched = []
    oversold = 0
    for pk, stock in Product.objects.filter(pk__in=starting).values_list("pk", "stock"):
        units = kept.get(pk, 0)
        oversold += max(units - starting[pk], 0)
        if stock < 0 or stock + units != starting[pk]:
            mismatched.append(pk)
    with open(os.devnull, "w") as quiet:
        try:
            call_command("reconcile_stock", stdout=quiet, stderr=quiet)
            ledger = "clean"
        except SystemExit:
            ledger = "DRIFT"
    return sold, oversold, mismatched, ledger


def percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def memory_figures(samples):
    """Total worker RSS (MiB) at the end of the first third and over the last third."""
    totals = [(at, sum(sizes.values()) / 1024) for at, sizes in samples if sizes]
    if len(totals) < 3:
        return None
    third = len(totals) // 3
    warmed = totals[third - 1][1] if third else totals[0][1]
    last = [mib for _, mib in totals[-third:]] if third else [totals[-1][1]]
    return {
        "samples_mib": [round(mib, 1) for _, mib in totals],
        "after_warm_up_mib": round(warmed, 1),
        "last_third_max_mib": round(max(last), 1),
        "final_mib": round(totals[-1][1], 1),
        "levels_off": max(last) <= warmed * 1.10 + 8,
    }


def main(argv=None):
    args = parse_args(argv)
    random.seed(args.seed)
    servers.ensure_database(args.database_url)
    static_root = tempfile.mkdtemp(prefix="soak-static-")
    environment = servers.server_environment(
        database_url=args.database_url,
        redis_url=args.redis_url,
        STATIC_ROOT=static_root,
        # The soak measures the store under load, not the abuse limits.
        RATELIMIT_CHECKOUT="100000/m",
        RATELIMIT_CART_WRITE="100000/m",
        GUNICORN_BIND=f"127.0.0.1:{args.port}",
        GUNICORN_WORKERS=str(args.workers),
        GUNICORN_LOG_LEVEL="warning",
        GUNICORN_MAX_REQUESTS="0",
    )
    servers.setup_django(environment)
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    run = secrets.token_hex(3).upper()
    products, tokens, logins, starting, category = seed(run, args)
    with tempfile.NamedTemporaryFile(
        "w", prefix="soak-", suffix=".log", delete=False
    ) as log:
        say(
            f"Soak {run}: {args.duration:.0f} s, {args.concurrency} clients, gunicorn "
            f"with {args.workers} workers on 127.0.0.1:{args.port}, "
            f"{len(products)} products x {args.stock} units, {len(tokens)} shoppers "
            f"on the API and {len(logins)} on the pages (server log: {log.name})"
        )
        server = start_server(args, environment, log)
        try:
            results, seconds, samples, flows = run_load(
                args, products, tokens, logins, category, server
            )
        finally:
            servers.stop_gunicorn(server)
    statuses = Counter(str(status) for _, status, _ in results)
    by_kind = Counter(kind for kind, _, _ in results)
    errors = sum(
        count for status, count in statuses.items() if status[:1] not in "1234"
    )
    latencies = [elapsed for _, _, elapsed in results]
    sold, oversold, mismatched, ledger = check_stock(starting)
    memory = memory_figures(samples)
    figures = {
        "run": run,
        "seconds": round(seconds, 1),
        "requests": len(results),
        "requests_per_second": round(len(results) / seconds, 1),
        "by_kind": dict(sorted(by_kind.items())),
        **flows,
        "statuses": dict(sorted(statuses.items())),
        "server_errors_or_failures": errors,
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "starting_units": sum(starting.values()),
        "units_sold": sold,
        "oversold_units": oversold,
        "stock_mismatches": len(mismatched),
        "ledger": ledger,
        "memory": memory,
    }
    say(
        f"{figures['requests']} requests in {figures['seconds']} s "
        f"({figures['requests_per_second']}/s), p50 {figures['p50_ms']} ms, "
        f"p99 {figures['p99_ms']} ms"
    )
    say(f"by kind: {figures['by_kind']}")
    say(
        f"orders placed: {flows['orders_placed']['api']} through the API, "
        f"{flows['orders_placed']['pages']} through the pages "
        f"({flows['paid_on_pages']} paid there, after {flows['page_logins']} "
        f"logins); {flows['session_cart_adds']} adds to session carts on the pages"
    )
    say(f"statuses: {figures['statuses']}")
    say(
        f"5xx or failed: {errors}; sold {sold} of {figures['starting_units']} units, "
        f"oversold {oversold}, stock mismatches {len(mismatched)}, ledger {ledger}"
    )
    if memory:
        say(
            "worker RSS (MiB, all workers): after warm-up "
            f"{memory['after_warm_up_mib']}, last third max "
            f"{memory['last_third_max_mib']}, final "
            f"{memory['final_mib']}; samples {memory['samples_mib']}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    failures = []
    if errors:
        failures.append(f"{errors} server errors or failed requests")
    if oversold or mismatched or ledger != "clean":
        failures.append("stock does not add up")
    if not memory or not memory["levels_off"]:
        failures.append("worker memory kept growing (or was not sampled)")
    if failures:
        say("FAILED: " + "; ".join(failures))
        return 1
    say("Soak passed: no 5xx, no oversell, stock and ledger add up, memory levels off.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
