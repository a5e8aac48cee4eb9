// One EventSource on every task's events. The browser reconnects by itself
// and sends Last-Event-ID, so the stream resumes where it left off. With
// authentication on, an EventSource cannot send the key: the page mints a
// stream token (POST /auth/stream-token) and puts it in the URL, and mints
// a new one when the old one is refused.
import { credential, send } from "./api.js";

const STATES = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
};

/** Opens the stream; calls onTask(status) per status event, onExpired() when events were lost. */
export function openLive({ onTask, onExpired, onState }) {
  let source;
  // Each open() is one generation; a retry of an older one does nothing.
  let generation = 0;
  const setState = (state) => onState(state, STATES[state]);
  const open = async () => {
    const mine = ++generation;
    let url = "/trainmodel/events";
    if (credential()) {
      try {
        url = (await send("POST", "/auth/stream-token")).stream_url;
      } catch {
        setState("reconnecting");
        setTimeout(() => mine === generation && open(), 3000);
        return;
      }
    }
    if (mine !== generation) return;
    source = new EventSource(url);
    setState("connecting");
    source.onopen = () => setState("live");
    source.onerror = () => {
      if (source.readyState !== EventSource.CLOSED) return setState("reconnecting");
      // Refused for good (a 503, say): open a new stream, and reload what it missed.
      setState("reconnecting");
      setTimeout(() => {
        if (mine !== generation) return;
        open();
        onExpired();
      }, 3000);
    };
    source.onmessage = (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "heartbeat") return;
      if (event.type === "error") {
        if (event.code === "events_expired") {
          // The events after our position are gone: start from now, reload the lists.
          source.close();
          open();
          onExpired();
        }
        return;
      }
      onTask(event);
    };
  };
  open();
  return {
    close: () => source?.close(),
    /** Opens the stream again (after the credential changed). */
    reopen() {
      source?.close();
      open();
    },
  };
}
