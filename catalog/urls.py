"""The catalog's pages for shoppers (the home page is routed in shopswift/urls.py)."""

from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("products/", views.ProductListView.as_view(), name="product-list"),
    path(
        "products/<slug:slug>/",
        views.ProductDetailView.as_view(),
        name="product-detail",
    ),
    path("categories/<slug:slug>/", views.CategoryView.as_view(), name="category"),
]
