//! Property tests over the socket frame decoder: it never panics, refuses what it should,
//! and reads back every frame a client can write.

use proptest::prelude::*;
use switchboard::realtime::protocol::{decode, ClientFrame, DecodeError, MAX_FRAME_BYTES};
use uuid::Uuid;

fn client_frame() -> impl Strategy<Value = ClientFrame> {
    let id = any::<u128>().prop_map(Uuid::from_u128);
    prop_oneof![
        ".{0,64}".prop_map(|visitor_token| ClientFrame::Hello { visitor_token }),
        (id.clone(), any::<i64>()).prop_map(|(conversation_id, after_seq)| {
            ClientFrame::Subscribe {
                conversation_id,
                after_seq,
            }
        }),
        id.clone()
            .prop_map(|conversation_id| ClientFrame::Unsubscribe { conversation_id }),
        (
            id.clone(),
            ".{0,40}",
            ".{0,300}",
            any::<bool>(),
            proptest::option::of(id.clone())
        )
            .prop_map(
                |(conversation_id, key, body, note, attachment)| ClientFrame::Send {
                    conversation_id,
                    key,
                    body,
                    note,
                    attachment,
                }
            ),
        id.clone()
            .prop_map(|conversation_id| ClientFrame::Typing { conversation_id }),
        (id.clone(), any::<i64>()).prop_map(|(conversation_id, up_to_seq)| {
            ClientFrame::Delivered {
                conversation_id,
                up_to_seq,
            }
        }),
        (id, any::<i64>()).prop_map(|(conversation_id, up_to_seq)| ClientFrame::Read {
            conversation_id,
            up_to_seq
        }),
        Just(ClientFrame::Ping),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_on_any_text(s in ".{0,2000}") {
        let _ = decode(&s);
    }

    #[test]
    fn never_panics_on_json_shaped_text(kind in "[a-z_]{0,12}", rest in "[ -~]{0,200}") {
        let text = format!("{{\"type\":\"{kind}\",{rest}");
        let _ = decode(&text);
        let text = format!("{{\"type\":\"{kind}\"}}");
        match decode(&text) {
            Ok(_) | Err(DecodeError::Malformed(_)) | Err(DecodeError::Unknown(_)) => {}
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
    }

    #[test]
    fn reads_back_every_client_frame(frame in client_frame()) {
        let text = serde_json::to_string(&frame).unwrap();
        prop_assert_eq!(decode(&text), Ok(frame));
    }

    #[test]
    fn refuses_oversized_frames(extra in 1usize..4096) {
        let text = "a".repeat(MAX_FRAME_BYTES + extra);
        prop_assert!(matches!(decode(&text), Err(DecodeError::TooLarge(_))), "oversized frames are refused");
    }
}
