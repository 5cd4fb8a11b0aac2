from rest_framework.routers import SimpleRouter

from catalog.api.views import CategoryViewSet, ProductViewSet, SaleViewSet

router = SimpleRouter()
router.register("categories", CategoryViewSet, basename="category")
router.register("products", ProductViewSet, basename="product")
router.register("sales", SaleViewSet, basename="sale")

urlpatterns = router.urls
