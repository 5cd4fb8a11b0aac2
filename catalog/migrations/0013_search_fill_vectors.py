"""Fill the search vectors and the name vocabulary of the existing products.

Setting a column the vector trigger watches (migration 0009) makes the
database compute each vector; the vocabulary is read from every name.
"""

from django.db import migrations

FILL = """
UPDATE catalog_product SET search_terms = search_terms;
INSERT INTO catalog_searchword (word)
SELECT DISTINCT lexeme
FROM catalog_product, unnest(to_tsvector('simple', catalog_product.name))
WHERE char_length(lexeme) >= 3 AND lexeme ~ '[[:alpha:]]'
ON CONFLICT DO NOTHING;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0012_search_full_text"),
    ]

    operations = [
        # Backwards, migration 0009 drops what this filled.
        migrations.RunSQL(FILL, migrations.RunSQL.noop, elidable=False),
    ]
