/**
 * Waits until `progress` (a count that I/O moves: messages a backend wrote, writes a client got
 * through) stands still across `rounds` round trips in a row, and returns where it stopped.
 * `roundTrip` is an exchange with the peer over the same connection whose answer comes after
 * everything sent before it was read and acted on (a PING, a call the peer answers at once):
 * what could still move the count (a WINDOW_UPDATE on its way, the 'drain' it brings) would have
 * moved it by then. No time is waited for: the round trip's answer is the event.
 */
export async function atRest(progress: () => number, roundTrip: () => Promise<unknown>, rounds = 1): Promise<number> {
  let before = progress();
  for (let still = 0; still < rounds; ) {
    await roundTrip();
    const now = progress();
    still = now === before ? still + 1 : 0;
    before = now;
  }
  return before;
}

/**
 * Makes round trips (as for `atRest`) until `condition` holds, for a state the peer reaches on
 * its own after the exchange that started it (a status it sends once its messages are out):
 * each answer brings whatever the peer sent before it. Throws after `maxRounds`.
 */
export async function roundTripsUntil(condition: () => boolean, roundTrip: () => Promise<unknown>, maxRounds = 100): Promise<void> {
  for (let round = 0; !condition(); round++) {
    if (round === maxRounds) throw new Error(`still not so after ${maxRounds} round trips`);
    await roundTrip();
  }
}
