"""The product search: PostgreSQL full text, ranked, with typo tolerance.

The database keeps each product's `search_vector` and the vocabulary of
the products' names (`SearchWord`) with triggers (migration 0009); this
module asks them. docs/search.md says how the pieces fit.
"""

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

from django.conf import settings
from django.contrib.postgres.lookups import TrigramSimilar
from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramSimilarity
from django.db import DatabaseError, connection, transaction
from django.db.models import (
    Exists,
    F,
    Field,
    Func,
    IntegerField,
    Model,
    OuterRef,
    QuerySet,
)

from catalog import cache
from catalog.models import Product, SearchWord, name_search_vector

# The words of a search that are looked at for typos (a search is at most
# 100 characters): each costs a query or two when nothing is found.
MAX_CORRECTED_WORDS = 10
# Shorter words have too few trigrams to be matched to another reliably.
MIN_CORRECTED_LENGTH = 3
# A word, and whether a "-" excludes it (websearch_to_tsquery's syntax).
SEARCH_WORD = re.compile(r"(?P<minus>-?)(?P<word>[^\W_]+)")
# The names of migration 0009's vector trigger and its function.
VECTOR_TRIGGER = "catalog_product_search_vector"


@dataclass(frozen=True)
class SearchTerms:
    """A search as given, and the words used instead when it found nothing.

    `corrected` is None when the given words found products, or when no
    product name holds a word close enough to the ones that found nothing.
    """

    query: str
    corrected: str | None

    @property
    def used(self) -> str:
        return self.corrected or self.query


def search_query(text: str) -> SearchQuery:
    """The websearch_to_tsquery of `text` in the store's language."""
    return SearchQuery(text, config=settings.SEARCH_CONFIG, search_type="websearch")


def matching(products: QuerySet[Product], text: str) -> QuerySet[Product]:
    """The products that match `text`, most relevant first (`search_rank`).

    Name and SKU weigh most, then the category and the search terms, then
    the description (the weights the trigger gave them).
    """
    query = search_query(text)
    return (
        products.filter(search_vector=query)
        .annotate(search_rank=SearchRank(F("search_vector"), query))
        .order_by("-search_rank", "-id")
    )


class RankedProducts(Sequence[Product]):
    """A search's products as a paginator reads them: a page's ids first.

    The ranking sorts every match. Sorting their ids alone, then reading
    the page's rows (with their category and pictures) by id, costs a third
    of sorting the whole rows joined to their categories. And when the
    order is by relevance and the search is one word, only the products
    whose name or SKU hold it are ranked, when there are enough of them to
    fill the page: they rank above every other match (`name_matches_first`).
    docs/search.md has the measurements.
    """

    def __init__(
        self, products: QuerySet[Product], text: str, *, by_relevance: bool
    ) -> None:
        self.products = products
        self.query = search_query(text)
        words = list(SEARCH_WORD.finditer(text))
        # More words may still make one (stop words), but seldom enough not
        # to spend a statement finding out.
        self.one_word = by_relevance and len(words) == 1 and not words[0]["minus"]

    # The paginators count by len(): one COUNT(*) of the matches.
    def __len__(self) -> int:
        return self.products.count()

    def __iter__(self) -> Iterator[Product]:
        return iter(self[:])

    @overload
    def __getitem__(self, index: int, /) -> Product: ...
    @overload
    def __getitem__(self, index: slice, /) -> list[Product]: ...
    def __getitem__(self, index: int | slice, /) -> Product | list[Product]:
        if isinstance(index, int):
            return self[index : index + 1][0]
        return self.rows_of(self.page_ids(index))

    def rows_of(self, ids: list[int]) -> list[Product]:
        """The products of `ids`, in that order, with their category and pictures.

        A product changed since its id was read, so that it no longer
        matches, is left out, as a page read in one statement would have.
        """
        rows = self.products.order_by().in_bulk(ids)
        return [rows[pk] for pk in ids if pk in rows]

    def page_ids(self, page: slice) -> list[int]:
        ids = self.products.values_list("pk", flat=True)
        if self.one_word and page.stop is not None:
            first = list(name_matches_first(ids, self.query)[: page.stop])
            if len(first) == page.stop:
                return first[page]
        return list(ids[page])


def name_matches_first(
    products: QuerySet[Product, int], query: SearchQuery
) -> QuerySet[Product, int]:
    """Of `products` ranked by `query`, those that hold it in their name or SKU.

    Only for a query of a single word (none otherwise), where they are the
    first of the ranking. ts_rank gives a word its best weight, plus each
    other place's weight over the square of its number, the whole over
    pi^2/6 = 1.645: a product with the word in its name (weight A, 1.0)
    ranks at least 1.0 / 1.645 = 0.61; any other has 0.4 (B) at best, and
    ranks at most 0.4, or 0.52 when a C (0.2) comes before its best. The
    name part has an index of its own (`name_search_vector`), a tenth of
    the matches' size for a common word.
    """
    holding: QuerySet[Product, int] = products.alias(
        name_vector=name_search_vector(),
        query_nodes=Func(query, function="numnode", output_field=IntegerField()),
    ).filter(name_vector=query, query_nodes=1)
    return holding


def interpret(text: str) -> SearchTerms:
    """The search to run for `text`: itself, or its typos corrected.

    Words are corrected only when the search finds no active product at all
    (whatever the other filters), so that the list, the facets and the
    pages correct a search alike.
    """
    if finds_any(search_query(text)):
        return SearchTerms(text, None)
    return SearchTerms(text, corrected_text(text))


def corrected_text(text: str) -> str | None:
    """`text` with each word that finds nothing replaced by the closest name word.

    Closest by trigram similarity, above pg_trgm's similarity threshold
    (0.3 unless the database sets `pg_trgm.similarity_threshold`), among
    the words of active products' names. Excluded words (`-word`), `or`,
    words of fewer than three characters or without a letter, and the
    quotes of phrases keep their place. None when no word was replaced.
    """
    replaced = False
    parts: list[str] = []
    end = 0
    for number, found in enumerate(SEARCH_WORD.finditer(text)):
        word = found["word"].lower()
        if (
            number >= MAX_CORRECTED_WORDS
            or found["minus"]
            or word == "or"
            or len(word) < MIN_CORRECTED_LENGTH
            # A model number is no typo of another.
            or not any(character.isalpha() for character in word)
            or finds_any(
                SearchQuery(word, config=settings.SEARCH_CONFIG, search_type="plain")
            )
        ):
            continue
        closest = name_words_like(word).values_list("word", flat=True).first()
        if closest is not None:
            parts.extend((text[end : found.start("word")], closest))
            end = found.end("word")
            replaced = True
    if not replaced:
        return None
    parts.append(text[end:])
    return "".join(parts)


def finds_any(query: SearchQuery) -> bool:
    """Whether `query` matches any active product.

    The match is asked twice on purpose. PostgreSQL estimates a word it
    keeps no statistics for (a typo, a rare word) to match 0.5% of the
    products, and for the first of them it then prefers scanning the table
    to asking the GIN index: when nothing matches, it reads every row (65
    to 130 ms at 100,000 products). Twice, the estimate is squared: a rare
    word is looked up in the index (0.1 ms), while a word that most
    products hold is still found at the start of a scan.
    """
    return (
        Product.objects.active()
        .filter(search_vector=query)
        .filter(search_vector=query)
        .exists()
    )


def name_words_like(word: str) -> QuerySet[SearchWord]:
    """The name words similar to `word` that active products' names hold, closest first.

    Whether a name holds the word is asked of the name part of the vectors
    (`name_search_vector`, and its index): a word of the descriptions too
    would read all of its many matches to find one.
    """
    in_active_names = (
        Product.objects.active()
        .alias(name_vector=name_search_vector())
        .filter(
            name_vector=SearchQuery(
                OuterRef("word"), config=settings.SEARCH_CONFIG, search_type="plain"
            )
        )
    )
    return (
        SearchWord.objects.filter(TrigramSimilar(F("word"), word))
        .filter(Exists(in_active_names))
        .annotate(similarity=TrigramSimilarity("word", word))
        .order_by("-similarity", "word")
    )


def config_exists(name: str) -> bool:
    """Whether the database knows the text-search configuration `name`."""
    try:
        # A savepoint: the failed cast must not spoil the caller's transaction.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT %s::regconfig", [name])
    except DatabaseError:
        return False
    return True


def trigger_config() -> str | None:
    """The text-search configuration of the vector trigger (None: no trigger)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgargs FROM pg_trigger "
            "WHERE tgrelid = to_regclass(%s) AND tgname = %s",
            [Product._meta.db_table, VECTOR_TRIGGER],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    # The arguments, each ended by a NUL byte.
    return bytes(row[0]).split(b"\0")[0].decode()


@transaction.atomic
def rebuild_search_index() -> int:
    """Write the vector trigger for SEARCH_CONFIG, then every vector and the vocabulary.

    Returns the number of products whose vector was written again.
    """
    table = connection.ops.quote_name(Product._meta.db_table)
    words = connection.ops.quote_name(SearchWord._meta.db_table)
    watched = ", ".join(
        _column(Product, name)
        for name in (
            "name",
            "sku",
            "category",
            "search_terms",
            "description",
            "search_vector",
        )
    )
    pk, terms, name = (
        _column(Product, field) for field in ("id", "search_terms", "name")
    )
    # SEARCH_CONFIG is validated by the settings: a name that needs no quoting.
    config = settings.SEARCH_CONFIG
    # Accepted bandit B608 below: names from the models' metadata and the
    # validated setting only are formatted in; the one value is bound.
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER IF EXISTS {VECTOR_TRIGGER} ON {table}")
        cursor.execute(
            f"CREATE TRIGGER {VECTOR_TRIGGER} BEFORE INSERT OR UPDATE OF {watched} "
            f"ON {table} FOR EACH ROW EXECUTE FUNCTION {VECTOR_TRIGGER}('{config}')"
        )
        # Locked in id order, as the stock service locks products.
        cursor.execute(
            f"UPDATE {table} SET {terms} = {terms} WHERE {pk} IN "  # nosec B608
            f"(SELECT {pk} FROM {table} ORDER BY {pk} FOR UPDATE)"
        )
        rebuilt: int = cursor.rowcount
        cursor.execute(f"DELETE FROM {words}")  # nosec B608
        # A product written meanwhile may have added its words already.
        cursor.execute(
            f"INSERT INTO {words} ({_column(SearchWord, 'word')}) "  # nosec B608
            f"SELECT DISTINCT lexeme "
            f"FROM {table}, unnest(to_tsvector('simple', {table}.{name})) "
            f"WHERE char_length(lexeme) >= %s AND lexeme ~ '[[:alpha:]]' "
            f"ON CONFLICT DO NOTHING",
            [MIN_CORRECTED_LENGTH],
        )
    cache.invalidate()
    return rebuilt


def _column(model: type[Model], name: str) -> str:
    """The quoted column of a model's field."""
    field = model._meta.get_field(name)
    # Every field named here is a concrete one, with its column.
    assert isinstance(field, Field)
    assert field.column is not None
    return connection.ops.quote_name(field.column)
