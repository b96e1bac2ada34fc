//! The LibreTranslate adapter against a LibreTranslate-compatible server on 127.0.0.1:0.

use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::Json;
use poem::{EndpointExt, Route, Server, handler, http::StatusCode};
use serde_json::{Value, json};

use peps_core::domain::Language;
use peps_core::ports::{NoTranslator, Translator};
use peps_store::translate::LibreTranslate;

/// Prefixes each text with the target language; refuses Tigrinya as LibreTranslate refuses a
/// language it lacks; answers one text too few for Somali, as a broken server would.
#[handler]
fn translate(Json(body): Json<Value>) -> poem::Response {
    assert_eq!(body["source"], "fr");
    assert_eq!(body["format"], "text");
    assert_eq!(body["api_key"], "cle-secrete");
    let target = body["target"].as_str().unwrap_or_default().to_owned();
    if target == "ti" {
        return poem::Response::builder()
            .status(StatusCode::BAD_REQUEST)
            .body(json!({"error": "ti is not supported"}).to_string());
    }
    let mut texts: Vec<String> = body["q"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| format!("[{target}] {}", t.as_str().unwrap()))
        .collect();
    if target == "so" {
        texts.pop();
    }
    poem::Response::builder()
        .content_type("application/json")
        .body(json!({ "translatedText": texts }).to_string())
}

async fn server() -> String {
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = acceptor.local_addr()[0].as_socket_addr().cloned().unwrap();
    tokio::spawn(async move {
        Server::new_with_acceptor(acceptor)
            .run(Route::new().at("/translate", poem::post(translate)).boxed())
            .await
    });
    format!("http://{addr}/")
}

fn lang(code: &str) -> Language {
    Language::parse(code).unwrap()
}

#[tokio::test]
async fn translates_through_a_libretranslate_server() {
    let url = server().await;
    let translator = LibreTranslate::new(&url, Some("cle-secrete".into())).unwrap();
    let texts = vec![
        "Apportez votre avis d’imposition.".to_owned(),
        "Rendez-vous mardi.".to_owned(),
    ];
    let out = translator
        .translate(&texts, &lang("fr"), &lang("ar"))
        .await
        .unwrap();
    assert_eq!(
        out,
        Some(vec![
            "[ar] Apportez votre avis d’imposition.".to_owned(),
            "[ar] Rendez-vous mardi.".to_owned()
        ])
    );
    // A language the server lacks, and easy-to-read French (never machine-made): none.
    assert_eq!(
        translator
            .translate(&texts, &lang("fr"), &lang("ti"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        translator
            .translate(&texts, &lang("fr"), &lang("fr-x-falc"))
            .await
            .unwrap(),
        None
    );
    // A broken answer is an error, never a misaligned translation.
    assert!(
        translator
            .translate(&texts, &lang("fr"), &lang("so"))
            .await
            .is_err()
    );
    assert!(format!("{translator:?}").contains("endpoint"));
    assert!(!format!("{translator:?}").contains("cle-secrete"));
}

#[tokio::test]
async fn an_unreachable_server_is_a_clear_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let translator = LibreTranslate::new(&url, None).unwrap();
    let err = translator
        .translate(&["Bonjour".to_owned()], &lang("fr"), &lang("en"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unreachable"), "{err}");
    assert!(LibreTranslate::new("ftp://x", None).is_err());
    assert_eq!(
        NoTranslator
            .translate(&["Bonjour".to_owned()], &lang("fr"), &lang("en"))
            .await
            .unwrap(),
        None
    );
}
