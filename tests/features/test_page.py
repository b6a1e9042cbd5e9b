"""Page vectors: what the page-type model sees of a page."""
from __future__ import annotations

import numpy as np

from boilerclf.features.page import PAGE_FEATURE_NAMES, meta_vector, page_vectors
from boilerclf.features.table import batch_features, page_features
from boilerclf.parse.html import html_lines, page_meta

PRODUCT = """<html><head><title>Wool Runner | Shoes</title>
<meta property="og:type" content="product">
<link rel="canonical" href="https://shop.example/products/wool-runner">
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "Product",
 "name": "Wool Runner", "offers": {"@type": "Offer", "price": "98"}}</script></head>
<body><h1>Wool Runner</h1><p>A soft merino wool shoe for every day.</p>
<ul><li>Size 8</li><li>Size 9</li></ul></body></html>"""


def test_page_meta_reads_og_type_json_ld_and_the_canonical_address():
    L = html_lines(PRODUCT)
    assert L.meta == {"og_type": "product", "url": "https://shop.example/products/wool-runner"}
    assert page_meta(L) == {"og_type": "product", "ld_types": ("product", "offer"),
                            "url": "https://shop.example/products/wool-runner"}
    assert L.source is None and L.meta["ld_types"] == ("product", "offer")  # read once, source let go
    v = meta_vector(L.meta)
    names = PAGE_FEATURE_NAMES[-len(v):]
    on = {n for n, x in zip(names, v.tolist()) if x and not n.startswith("url_depth")}
    assert on == {"og_product", "ld_product", "ld_offer", "url_products"}
    # a caller's address wins over the page's own
    v = meta_vector(L.meta, "https://forum.example/t/wool-runner-sizes/123")
    on = {n for n, x in zip(names, v.tolist()) if x}
    assert {"url_t", "url_numbers", "url_depth"} <= on and "url_products" not in on


def test_page_vectors_of_a_batch_are_each_page_alone(lighthouse_html):
    pages = [html_lines(PRODUCT), html_lines(lighthouse_html)]
    X = batch_features(pages)
    both = page_vectors(X, [page_meta(p) for p in pages])
    assert both.shape == (2, len(PAGE_FEATURE_NAMES)) and np.isfinite(both).all()
    for i, p in enumerate(pages):
        np.testing.assert_allclose(both[i], page_vectors(page_features(p), [page_meta(p)])[0], rtol=1e-6)
    assert not np.allclose(both[0], both[1])


def test_hostile_meta_says_nothing_and_does_not_fail():
    html = ('<html><head><meta property="og:type" content="' + "x" * 5000 + '">'
            '<link rel="canonical" href="http://[::1">'
            '<script type="application/ld+json">{"@type": [' + '"A",' * 3000 + '"B"]}</script></head>'
            '<body><p>Text of the page.</p></body></html>')
    L = html_lines(html)
    assert len(L.meta["og_type"]) <= 80 and len(page_meta(L)["ld_types"]) <= 2
    v = meta_vector(L.meta)
    assert np.isfinite(v).all() and not v[:-3].any()
