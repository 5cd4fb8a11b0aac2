from datetime import timedelta

from shopswift.celery import app


def test_the_celery_app_is_configured_from_django_settings(settings):
    assert app.main == "shopswift"
    assert app.conf.timezone == "UTC"
    assert settings.CELERY_BROKER_URL == "memory://localhost/"
    # No broker configured: tasks run in the sending process.
    assert app.conf.task_always_eager is True


def test_the_tasks_are_discovered():
    app.loader.import_default_modules()

    assert {
        "orders.emails.send_order_confirmation",
        "orders.emails.send_order_status_email",
        "orders.tasks.expire_unpaid_orders",
        "accounts.emails.send_password_changed_notice",
        "accounts.emails.send_email_changed_notice",
        "accounts.emails.send_email_change_link",
        "accounts.emails.send_email_in_use_notice",
        "accounts.tasks.send_password_reset",
    } <= set(app.tasks)


def test_beat_expires_unpaid_orders_every_five_minutes():
    schedule = app.conf.beat_schedule["expire-unpaid-orders"]

    assert schedule["task"] == "orders.tasks.expire_unpaid_orders"
    assert schedule["schedule"] == timedelta(minutes=5)
