//! Nothing destructive on one click. A destructive action sits behind a trigger button that
//! opens a modal `<dialog>` naming what will be lost; the dialog holds the form that does it
//! and a Cancel button (focused first, so Enter or Escape never destroys anything).
//! The dialog opens with HTML invoker commands (`commandfor` / `command="show-modal"`),
//! so it works before the WASM has arrived; hydrated, the form runs in the page and the
//! dialog closes on success. Failures are shown inside the dialog, where the action was
//! taken; nothing on the page moves under the pointer.
use leptos::html;
use leptos::prelude::*;

/// The dialog and its trigger. `children` is the body: the consequences, then the form
/// (whose submit button says what it does), ending with `<CancelButton/>`.
#[component]
pub fn ConfirmDialog(
    /// Unique in the page (the trigger points at it).
    #[prop(into)]
    id: String,
    /// The trigger's text, e.g. "Delete Analytics".
    #[prop(into)]
    trigger: String,
    /// The trigger's accessible name when the text alone is ambiguous in a list.
    #[prop(into, optional)]
    trigger_label: Option<String>,
    /// The trigger's classes (default `danger`).
    #[prop(into, optional)]
    trigger_class: Option<String>,
    /// The question, e.g. "Delete Analytics?".
    #[prop(into)]
    title: String,
    /// Becomes true when the action succeeded: the dialog closes.
    #[prop(into, optional)]
    done: Option<Signal<bool>>,
    /// Open as the page renders (a form posted before the WASM arrived came back refused:
    /// the message is shown in the dialog it was sent from).
    #[prop(into, optional)]
    open: Option<Signal<bool>>,
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    let title_id = format!("{id}-title");
    if let Some(done) = done {
        Effect::new(move |_| {
            if done.get() {
                #[cfg(feature = "hydrate")]
                if let Some(d) = dialog.get() {
                    d.close();
                }
            }
        });
    }
    let open_now = open.map(|o| o.get_untracked()).unwrap_or(false);
    view! {
        <button
            type="button"
            class=trigger_class.unwrap_or_else(|| "danger".into())
            aria-label=trigger_label
            aria-haspopup="dialog"
            commandfor=id.clone()
            command="show-modal"
        >
            {trigger}
        </button>
        <dialog id=id node_ref=dialog class="confirm" aria-labelledby=title_id.clone() open=open_now>
            <h2 id=title_id.clone()>{title}</h2>
            {children()}
        </dialog>
    }
}

/// Closes the dialog `of` and changes nothing.
#[component]
pub fn CancelButton(#[prop(into)] of: String) -> impl IntoView {
    view! {
        <button type="button" class="secondary" commandfor=of command="close" autofocus=true>
            "Cancel"
        </button>
    }
}
