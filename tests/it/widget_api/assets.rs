//! The widget's files as the server embeds and serves them.

use concierge::http::assets::{self, ASSETS};
use concierge_tests::*;
use serde_json::Value;

use super::header;

#[tokio::test]
#[ignore = "needs the built widget (cargo xtask widget; cargo xtask test does)"]
async fn the_embedded_widget_is_served_cached_compressed_and_revalidated() {
    assert!(
        !ASSETS.is_empty(),
        "this server was built without the widget: run `cargo xtask widget`, then rerun the \
         tests (`cargo xtask test` does both)"
    );
    let app = spawn_app().await;
    // Plain bytes unless asked: this client does not add Accept-Encoding by itself.
    let client = reqwest::Client::builder().no_gzip().build().unwrap();
    for a in ASSETS {
        let (path, cache) = if a.name == assets::LOADER {
            ("/widget.js".to_string(), "public, max-age=300")
        } else {
            (
                format!("/widget/{}", a.name),
                "public, max-age=31536000, immutable",
            )
        };
        let r = client.get(app.http(&path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(header(&r, "content-type"), Some(a.content_type), "{path}");
        assert_eq!(header(&r, "cache-control"), Some(cache), "{path}");
        assert_eq!(header(&r, "access-control-allow-origin"), Some("*"));
        assert_eq!(header(&r, "vary"), Some("Accept-Encoding"));
        assert_eq!(header(&r, "content-encoding"), None);
        assert_eq!(header(&r, "etag"), Some(a.etag));
        assert_eq!(&r.bytes().await.unwrap()[..], a.raw, "{path}");

        let r = client
            .get(app.http(&path))
            .header("accept-encoding", "gzip, deflate")
            .send()
            .await
            .unwrap();
        assert_eq!(header(&r, "content-encoding"), Some("gzip"), "{path}");
        assert_eq!(header(&r, "etag"), Some(a.gzip_etag));
        assert_eq!(&r.bytes().await.unwrap()[..], a.gzip, "{path}");

        // Brotli first when the client takes it (every current browser does).
        let r = client
            .get(app.http(&path))
            .header("accept-encoding", "br, gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(header(&r, "content-encoding"), Some("br"), "{path}");
        assert_eq!(header(&r, "etag"), Some(a.br_etag));
        assert_eq!(&r.bytes().await.unwrap()[..], a.br, "{path}");

        for tag in [a.etag, a.gzip_etag, a.br_etag] {
            let r = client
                .get(app.http(&path))
                .header("if-none-match", tag)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 304, "{path} {tag}");
            assert_eq!(header(&r, "cache-control"), Some(cache));
            assert!(r.bytes().await.unwrap().is_empty());
        }
    }
    assert!(
        ASSETS.iter().any(|a| a.content_type == "application/wasm"),
        "the wasm module is embedded"
    );
    for path in [
        "/widget/cw-nope.js",
        "/widget/widget.js",
        "/widget/..%2Fserver",
    ] {
        let r = client.get(app.http(path)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
        assert_eq!(header(&r, "access-control-allow-origin"), Some("*"));
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], "not_found", "{path}");
    }
}
