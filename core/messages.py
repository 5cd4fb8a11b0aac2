"""The message storage: Django's own, made only when a request uses messages."""

from django.contrib.messages.storage.fallback import FallbackStorage


def storage_attribute(name):
    """A property that reads and sets the made storage's attribute `name`."""
    return property(
        lambda self: getattr(self.storage(), name),
        lambda self, value: setattr(self.storage(), name, value),
    )


class DeferredStorage:
    """Django's FallbackStorage (MESSAGE_STORAGE), made on first use.

    Making it costs a cookie signer, which the API and the probes, which never
    use messages, need not pay; a request that used none leaves the response
    as it was.
    """

    level = storage_attribute("level")
    # False keeps the messages read for the next request, as Django documents.
    used = storage_attribute("used")

    def __init__(self, request, *args, **kwargs):
        self.request = request
        self.made = None

    def storage(self):
        if self.made is None:
            self.made = FallbackStorage(self.request)
        return self.made

    def add(self, level, message, extra_tags=""):
        self.storage().add(level, message, extra_tags)

    def __iter__(self):
        return iter(self.storage())

    def __len__(self):
        return len(self.storage())

    def __contains__(self, message):
        return message in self.storage()

    def update(self, response):
        """Store what is left for the next request, if messages were used."""
        if self.made is None:
            return None
        return self.made.update(response)
