// One EventSource on every task's events. The browser reconnects by itself
// and sends Last-Event-ID, so the stream resumes where it left off.

const STATES = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
};

/** Opens the stream; calls onTask(status) per status event, onExpired() when events were lost. */
export function openLive({ onTask, onExpired, onState }) {
  let source;
  const setState = (state) => onState(state, STATES[state]);
  const open = () => {
    source = new EventSource("/trainmodel/events");
    setState("connecting");
    source.onopen = () => setState("live");
    source.onerror = () => {
      if (source.readyState !== EventSource.CLOSED) return setState("reconnecting");
      // Refused for good (a 503, say): open a new stream, and reload what it missed.
      setState("reconnecting");
      setTimeout(() => {
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
  return { close: () => source.close() };
}
