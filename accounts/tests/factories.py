import factory

from accounts.models import Address, User

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"shopper{n}@example.com")
    # Names made from the sequence, not Faker's: Django's similarity
    # validator compares a new password with them, and a random "Short"
    # made the tests that type the password "short" fail now and then.
    first_name = factory.Sequence(lambda n: f"Tester{n}")
    last_name = "Example"
    password = factory.django.Password(DEFAULT_PASSWORD)


class StaffFactory(UserFactory):
    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    is_staff = True


class SuperuserFactory(StaffFactory):
    email = factory.Sequence(lambda n: f"owner{n}@example.com")
    is_superuser = True


class AddressFactory(factory.django.DjangoModelFactory):
    """A valid address in a user's book (not the default unless asked)."""

    class Meta:
        model = Address

    user = factory.SubFactory(UserFactory)
    full_name = "Ada Lovelace"
    line1 = factory.Sequence(lambda n: f"{n + 1} St James's Square")
    line2 = ""
    city = "London"
    postal_code = "SW1Y 4JH"
    country = "GB"
    phone = ""


def address_data(**changes):
    """A valid postal address as the forms and the API send it."""
    return {
        "full_name": "Ada Lovelace",
        "line1": "12 St James's Square",
        "line2": "",
        "city": "London",
        "postal_code": "SW1Y 4JH",
        "country": "GB",
        "phone": "",
        **changes,
    }
