// One subscription to totem/devices/subscribe per page, shared by the panel and cards.
const listeners = new Set();
let last;
let unsub;
let connection;

export function subscribeDevices(hass, listener) {
  listeners.add(listener);
  if (last) listener(last);
  if (!unsub || connection !== hass.connection) {
    connection = hass.connection;
    unsub = hass.connection.subscribeMessage(
      (msg) => {
        last = msg;
        for (const l of listeners) l(msg);
      },
      { type: "totem/devices/subscribe" },
    );
  }
  return () => {
    listeners.delete(listener);
    if (!listeners.size && unsub) {
      const pending = unsub;
      unsub = undefined;
      last = undefined;
      pending.then((u) => u()).catch(() => {});
    }
  };
}
