"""The message storage: Django's own, made only when a request uses messages."""

from django.contrib.messages.storage.fallback import FallbackStorage


class DeferredStorage:
    """Django's FallbackStorage (MESSAGE_STORAGE), made on first use.

    Making it costs a cookie signer, which the API and the probes, which never
    use messages, need not pay; a request that used none leaves the response
    as it was.
    """

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

    @property
    def level(self):
        return self.storage().level

    @level.setter
    def level(self, value):
        self.storage().level = value

    @property
    def used(self):
        return self.storage().used

    @used.setter
    def used(self, value):
        self.storage().used = value

    def update(self, response):
        """Store what is left for the next request, if messages were used."""
        if self.made is None:
            return None
        return self.made.update(response)
