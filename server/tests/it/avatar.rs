//! Profile pictures over HTTP: upload (JSON API and the profile page's form), validation with
//! the reason shown, normalisation to a 256x256 PNG, who may see whose, and removal.
use crate::common;

use std::io::Cursor;

use common::TestApp;
use image::ImageFormat;

fn picture(w: u32, h: u32, format: ImageFormat) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 251) as u8, (y % 241) as u8, 90]));
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, format).expect("encode");
    out.into_inner()
}

async fn fetch(c: &common::Client, path: &str) -> (u16, String, Vec<u8>) {
    let r = c.http.get(format!("{}{path}", c.base)).send().await.expect("get");
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    (r.status().as_u16(), ct, r.bytes().await.expect("body").to_vec())
}

/// The profile page's form: multipart/form-data with one file field.
async fn upload_form(c: &common::Client, name: &str, bytes: &[u8]) -> String {
    let boundary = "roster-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = c
        .http
        .post(format!("{}/profile/avatar", c.base))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), 303);
    r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

#[tokio::test]
async fn uploads_are_validated_normalised_and_shown_to_those_who_may_see_the_account() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let alice = app.member(&admin, "alice", "Default", "Member").await;
    let bob = app.member(&admin, "bob", "Default", "Member").await;

    // No picture yet: a generated initial.
    let (s, ct, body) = fetch(&alice, "/api/v1/users/alice/avatar").await;
    assert_eq!((s, ct.as_str()), (200, "image/svg+xml"));
    assert!(String::from_utf8_lossy(&body).contains(">A</text>"));

    // The JSON API: a wide JPEG becomes a 256x256 PNG.
    let r = alice
        .http
        .put(format!("{}/api/v1/me/avatar", app.base))
        .header("content-type", "image/jpeg")
        .body(picture(640, 360, ImageFormat::Jpeg))
        .send()
        .await
        .expect("put");
    assert_eq!(r.status(), 204);
    let (s, ct, png) = fetch(&alice, "/api/v1/users/alice/avatar").await;
    assert_eq!((s, ct.as_str()), (200, "image/png"));
    let img = image::load_from_memory_with_format(&png, ImageFormat::Png).expect("a PNG");
    assert_eq!((img.width(), img.height()), (256, 256));

    // The form: refusals come back as a reason the page shows; nothing is stored.
    assert_eq!(
        upload_form(&alice, "x.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>").await,
        "/profile?avatar_error=format"
    );
    assert_eq!(upload_form(&alice, "empty.png", b"").await, "/profile?avatar_error=empty");
    let mut broken = picture(20, 20, ImageFormat::Png);
    broken.truncate(60);
    assert_eq!(upload_form(&alice, "broken.png", &broken).await, "/profile?avatar_error=unreadable");
    assert_eq!(
        upload_form(&alice, "tall.png", &picture(1, 5000, ImageFormat::Png)).await,
        "/profile?avatar_error=dimensions"
    );
    // Over 1 MB (but under the request limit), and over the request limit itself.
    assert_eq!(upload_form(&alice, "big.bin", &vec![7u8; 1_000_001]).await, "/profile?avatar_error=too_big");
    assert_eq!(upload_form(&alice, "huge.bin", &vec![7u8; 3_000_000]).await, "/profile?avatar_error=too_big");
    assert_eq!(fetch(&alice, "/api/v1/users/alice/avatar").await.2, png, "the refused uploads changed nothing");
    // A good one through the form.
    assert_eq!(upload_form(&alice, "me.webp", &picture(300, 300, ImageFormat::WebP)).await, "/profile?avatar=saved");
    let (_, ct, png2) = fetch(&alice, "/api/v1/users/alice/avatar").await;
    assert_eq!(ct, "image/png");
    assert_ne!(png2, png);

    // Who sees it: the admin yes; another member without view-users no; nobody signed out.
    assert_eq!(fetch(&admin, "/api/v1/users/alice/avatar").await.0, 200);
    assert_eq!(fetch(&bob, "/api/v1/users/alice/avatar").await.0, 403);
    assert_eq!(fetch(&app.browser(), "/api/v1/users/alice/avatar").await.0, 401);
    assert_eq!(fetch(&admin, "/api/v1/users/nobody/avatar").await.0, 404);

    // Removal, audited.
    let (s, body) = alice.rpc("remove_avatar", &[]).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(fetch(&alice, "/api/v1/users/alice/avatar").await.1, "image/svg+xml");
    let (_, log) = admin.get("/api/v1/audit?event=user.avatar_set").await;
    assert_eq!(log["events"].as_array().map(Vec::len), Some(2));
    let (_, log) = admin.get("/api/v1/audit?event=user.avatar_removed").await;
    assert_eq!(log["events"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn picture_decoding_waits_for_a_free_slot_in_the_cpu_queue() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let alice = app.member(&admin, "alice", "Default", "Member").await;
    let body = picture(800, 600, ImageFormat::Png);
    // Every slot busy (as under a burst of uploads or sign-ins): the upload waits its turn...
    let held = app.backend.cpu.hold_all().await.expect("slots");
    let upload = {
        let alice = alice.clone();
        let base = app.base.clone();
        tokio::spawn(async move {
            alice
                .http
                .put(format!("{base}/api/v1/me/avatar"))
                .header("content-type", "image/png")
                .body(body)
                .send()
                .await
                .expect("put")
                .status()
                .as_u16()
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!upload.is_finished(), "decoding must not start while every CPU slot is taken");
    // ...and runs as soon as one is free.
    drop(held);
    assert_eq!(upload.await.expect("join"), 204);
}
