"""Browser tests: Playwright driving Debian's Chromium against a live server.

Fixtures for every browser test:

- `live_server`: the app served by pytest-django's live server thread in
  production settings, with WhiteNoise serving the collected static files
  (hashed names, as in production) and the test media folder served too.
  A test that uses it gets a transactional database, so the rows it creates
  are committed and the server sees them.
- `browser`: one headless Chromium for the browser tests (this package).
- `page`: a fresh browser context (its own cookies: a new shopper) and page
  for each test, with `page.goto("/path")` relative to the live server; the
  test fails if something the page loads fails (a missing stylesheet or
  image) or the browser logs an error (a Content Security Policy refusal).
- `screenshot`: `screenshot("02-catalog")` saves the whole page under
  test-output/screenshots/.
- `store`: a small catalog to shop in (see the fixture).

Playwright's sync API runs an asyncio event loop in this thread for as long
as the browser is open, and Django refuses database calls from a thread with
a running loop (SynchronousOnlyOperation). The loop only waits here while
the test's code runs, so nothing is actually shared with it; the `browser`
fixture sets DJANGO_ALLOW_ASYNC_UNSAFE for its own lifetime. That lifetime
is this package's tests: the browser closes, and its loop ends, before any
other test runs in this process (under pytest-xdist a worker may run other
tests after these).
"""

import io
import os
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image, ImageDraw
from playwright.sync_api import sync_playwright
from pytest_django.live_server_helper import LiveServer

from catalog.tests.factories import CategoryFactory, ProductFactory

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
# When this process started on the tests (conftest modules are read first).
STARTED = time.time()
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="session")
def _browser_media_root(tmp_path_factory):
    """Uploaded product images go to this run's own folder."""
    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


@pytest.fixture(scope="session")
def live_server(request, _collected_static_files, _browser_media_root):
    """pytest-django's live server, with static files served as in production.

    pytest-django serves /static/ with staticfiles' finders, which know
    only the unhashed names; the pages name the hashed files from the
    manifest, so WhiteNoise (already in the middleware) serves the
    collected files instead. The address comes from --liveserver or
    DJANGO_LIVE_TEST_SERVER_ADDRESS as usual (default: localhost, any port).
    """
    address = (
        request.config.getvalue("liveserver")
        or os.environ.get("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    server = LiveServer(address, start=False)
    server.thread.static_handler = lambda handler: handler
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"The browser tests need Debian's Chromium at {CHROMIUM} "
            "(apt-get install chromium), or deselect them with -m 'not browser'."
        )
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems = []
    # A page may be a 404 on purpose; what it loads must all load, and the
    # browser must refuse nothing (the console reports CSP refusals).
    page.on(
        "response",
        lambda response: (
            response.status >= 400
            and response.request.resource_type != "document"
            and problems.append(f"{response.status} {response.url}")
        ),
    )
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and not message.text.startswith("Failed to load resource")
            and problems.append(message.text)
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    yield page
    context.close()
    assert problems == [], "the browser met errors"


@pytest.fixture(scope="session")
def _screenshots_folder():
    """The screenshots folder, without those of an earlier run.

    Files older than this process are an earlier run's: under pytest-xdist
    (make test) another worker may be saving this run's beside them.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        if old.stat().st_mtime < STARTED:
            old.unlink(missing_ok=True)
    return SCREENSHOTS


@pytest.fixture
def screenshot(page, _screenshots_folder):
    def save(name, target=None):
        (target or page).screenshot(
            path=_screenshots_folder / f"{name}.png", full_page=True
        )

    return save


def picture(name, colour):
    """A 320 by 320 product photo: a plate of colour on a light background."""
    image = Image.new("RGB", (320, 320), "#f4f1ea")
    ImageDraw.Draw(image).ellipse((50, 50, 270, 270), fill=colour, outline="#333")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return SimpleUploadedFile(f"{name}.png", buffer.getvalue(), "image/png")


@pytest.fixture
def store():
    """A catalog to shop in: 14 mugs, 2 pans and a rake.

    Kitchen holds Mugs and Pans; Garden holds the rake. The mugs cost
    8.00 to 21.00 (Mug 01 to Mug 14, one page of 12 and one of 2 in the
    Mugs category), half of them with a photo. The cast-iron pan has 3
    left (at the low-stock mark), the copper pan none.
    """
    kitchen = CategoryFactory(name="Kitchen", description="Cook, serve and sip.")
    mugs = CategoryFactory(name="Mugs", parent=kitchen)
    pans = CategoryFactory(name="Pans", parent=kitchen)
    garden = CategoryFactory(name="Garden", description="Grow things.")
    colours = ["#c0392b", "#2471a3", "#229954", "#d68910", "#7d3c98", "#17a589"]
    products = {
        "rake": ProductFactory(
            sku="GARDEN-RAKE",
            name="Bamboo rake",
            category=garden,
            price=Decimal("24.00"),
            stock=7,
        )
    }
    for number in range(1, 15):
        image = picture(f"mug-{number}", colours[number % 6]) if number % 2 else ""
        products[f"mug-{number:02}"] = ProductFactory(
            # Fixed SKUs: a sequence number could match a search by chance.
            sku=f"MUG-{number:02}",
            name=f"Mug {number:02}",
            description="A stoneware mug that holds 350 ml.",
            category=mugs,
            price=Decimal(number + 7),
            stock=20,
            image=image,
        )
    products["cast-iron"] = ProductFactory(
        sku="PAN-CAST-IRON",
        name="Cast-iron pan",
        description="Heavy, even heat.\n\nSeasoned and ready to cook.",
        category=pans,
        price=Decimal("59.00"),
        stock=3,
        image=picture("cast-iron", "#2c3e50"),
    )
    products["copper"] = ProductFactory(
        sku="PAN-COPPER",
        name="Copper pan",
        description="Sold out until spring.",
        category=pans,
        price=Decimal("129.00"),
        stock=0,
    )
    return products
