"""印鑑登録: the seal registration module, coupled to the resident register only through the
庁内データ連携 API (it is a registered linkage consumer and never imports `kikan.residents`)."""
