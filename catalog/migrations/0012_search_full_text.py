"""The product search's full-text vector and its vocabulary, kept by the database.

`search_vector` is written by a trigger on every insert and on every update
of a column it is made from: the name and SKU (weight A), the category's
name and `search_terms` (B), the description (C), in the text-search
configuration given to the trigger as its argument: SEARCH_CONFIG as this
migration runs (`manage.py rebuild_search_index` writes the trigger again
for another). A trigger on the categories refreshes the vectors of a
renamed category's products.

`catalog_searchword` holds the words of the products' names (the `simple`
configuration: lower-cased, unstemmed; of three characters or more, with a
letter: a model number is no typo of another), added by a trigger as names are
written; a mistyped search word is matched to them by trigram similarity
(a GiST index: see SearchWord).

The description's trigram index (migration 0006) goes with the substring
search it served. docs/search.md says why the database keeps the vectors
rather than the services.
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.conf import settings
from django.db import migrations, models

# Validated by the settings: a name that needs no quoting.
CONFIG = settings.SEARCH_CONFIG

# Accepted bandit B608: only CONFIG, a validated configuration name, is
# formatted in.
PRODUCT_VECTOR = f"""
CREATE FUNCTION catalog_product_search_vector() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    config regconfig := TG_ARGV[0]::regconfig;
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector(config, NEW.name || ' ' || NEW.sku), 'A')
        || setweight(to_tsvector(config, coalesce(
            (SELECT name FROM catalog_category WHERE id = NEW.category_id), ''
        ) || ' ' || NEW.search_terms), 'B')
        || setweight(to_tsvector(config, NEW.description), 'C');
    RETURN NEW;
END
$$;
CREATE TRIGGER catalog_product_search_vector
BEFORE INSERT OR UPDATE OF
    name, sku, category_id, search_terms, description, search_vector
ON catalog_product
FOR EACH ROW EXECUTE FUNCTION catalog_product_search_vector('{CONFIG}');
"""  # nosec B608

DROP_PRODUCT_VECTOR = """
DROP TRIGGER catalog_product_search_vector ON catalog_product;
DROP FUNCTION catalog_product_search_vector();
"""

SEARCH_WORDS = """
CREATE FUNCTION catalog_product_search_words() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO catalog_searchword (word)
    SELECT lexeme FROM unnest(to_tsvector('simple', NEW.name))
    WHERE char_length(lexeme) >= 3 AND lexeme ~ '[[:alpha:]]'
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER catalog_product_search_words
AFTER INSERT OR UPDATE OF name ON catalog_product
FOR EACH ROW EXECUTE FUNCTION catalog_product_search_words();
"""

DROP_SEARCH_WORDS = """
DROP TRIGGER catalog_product_search_words ON catalog_product;
DROP FUNCTION catalog_product_search_words();
"""

# The products are locked in id order, as the stock service locks them, so
# that a rename and a checkout cannot deadlock.
CATEGORY_RENAME = """
CREATE FUNCTION catalog_category_search_rename() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_product SET search_terms = search_terms
    WHERE id IN (
        SELECT id FROM catalog_product WHERE category_id = NEW.id
        ORDER BY id FOR UPDATE
    );
    RETURN NULL;
END
$$;
CREATE TRIGGER catalog_category_search_rename
AFTER UPDATE OF name ON catalog_category
FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
EXECUTE FUNCTION catalog_category_search_rename();
"""

DROP_CATEGORY_RENAME = """
DROP TRIGGER catalog_category_search_rename ON catalog_category;
DROP FUNCTION catalog_category_search_rename();
"""


# The description's trigram index served only the substring search that the
# full-text search replaces; the name's and the SKU's serve the admin's search.
DROP_DESCRIPTION_TRIGRAMS = "DROP INDEX IF EXISTS catalog_product_description_trgm_idx"
CREATE_DESCRIPTION_TRIGRAMS = """
CREATE INDEX IF NOT EXISTS catalog_product_description_trgm_idx ON catalog_product
USING gin (UPPER(description::text) gin_trgm_ops)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0011_images_remove_product_image"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchWord",
            fields=[
                (
                    "word",
                    models.CharField(max_length=200, primary_key=True, serialize=False),
                ),
            ],
        ),
        migrations.AddField(
            model_name="product",
            name="search_terms",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name="product",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(
                editable=False, null=True
            ),
        ),
        migrations.AddIndex(
            model_name="product",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_vector"], name="catalog_product_search_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="searchword",
            index=django.contrib.postgres.indexes.GistIndex(
                fields=["word"],
                name="catalog_searchword_trgm_idx",
                opclasses=["gist_trgm_ops"],
            ),
        ),
        migrations.RunSQL(PRODUCT_VECTOR, DROP_PRODUCT_VECTOR, elidable=False),
        migrations.RunSQL(SEARCH_WORDS, DROP_SEARCH_WORDS, elidable=False),
        migrations.RunSQL(CATEGORY_RENAME, DROP_CATEGORY_RENAME, elidable=False),
        migrations.RunSQL(
            DROP_DESCRIPTION_TRIGRAMS, CREATE_DESCRIPTION_TRIGRAMS, elidable=False
        ),
    ]
