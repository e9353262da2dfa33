//! Messages about what just happened, shown in one fixed corner of the screen (a polite
//! live region), so they never push the page around under the pointer. A message can carry
//! an Undo (the role matrix) and goes away by itself after a while, or when closed.
use leptos::prelude::*;

#[derive(Clone)]
pub struct Toast {
    id: u64,
    text: String,
    error: bool,
    undo: Option<Callback<()>>,
}

#[derive(Clone, Copy)]
pub struct Toasts {
    list: RwSignal<Vec<Toast>>,
    next: StoredValue<u64>,
}

/// How long a message stays (an Undo stays twice as long).
const SHOW_MS: u64 = 6_000;

impl Toasts {
    fn push(&self, text: String, error: bool, undo: Option<Callback<()>>) {
        let id = self.next.get_value();
        self.next.set_value(id + 1);
        let keep = if undo.is_some() { 2 * SHOW_MS } else { SHOW_MS };
        self.list.update(|l| {
            l.push(Toast { id, text, error, undo });
            // A burst of changes keeps the last few.
            if l.len() > 4 {
                l.remove(0);
            }
        });
        let list = self.list;
        set_timeout(move || list.update(|l| l.retain(|t| t.id != id)), std::time::Duration::from_millis(keep));
    }

    pub fn ok(&self, text: impl Into<String>) {
        self.push(text.into(), false, None);
    }

    pub fn error(&self, text: impl Into<String>) {
        self.push(text.into(), true, None);
    }

    /// A success message with an Undo button.
    pub fn with_undo(&self, text: impl Into<String>, undo: impl Fn() + Send + Sync + 'static) {
        self.push(text.into(), false, Some(Callback::new(move |_| undo())));
    }

    fn dismiss(&self, id: u64) {
        self.list.update(|l| l.retain(|t| t.id != id));
    }
}

pub fn provide_toasts() -> Toasts {
    let t = Toasts { list: RwSignal::new(Vec::new()), next: StoredValue::new(0) };
    provide_context(t);
    t
}

pub fn use_toasts() -> Toasts {
    expect_context::<Toasts>()
}

/// The region the messages appear in (once per page).
#[component]
pub fn ToastRegion() -> impl IntoView {
    let t = use_toasts();
    view! {
        // (a live region for screen readers; each message is a status of its own)
        <div class="toasts" aria-live="polite">
            <For each=move || t.list.get() key=|m| m.id let:m>
                {
                    let id = m.id;
                    let undo = m.undo;
                    view! {
                        <div class="toast" class:error=m.error role=if m.error { "alert" } else { "status" }>
                            <span>{m.text.clone()}</span>
                            {undo.map(|u| view! {
                                <button type="button" class="link" on:click=move |_| { t.dismiss(id); u.run(()); }>"Undo"</button>
                            })}
                            <button type="button" class="link close" aria-label="Dismiss" on:click=move |_| t.dismiss(id)>"×"</button>
                        </div>
                    }
                }
            </For>
        </div>
    }
}
