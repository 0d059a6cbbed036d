/** The simulator's event clock: order, intervals, cancellation, and async code between instants. */
import { describe, expect, it } from 'vitest';
import { EventClock, SIM_EPOCH } from '../../src/sim/clock.js';

describe('EventClock', () => {
  it('fires timers in deadline order, ties in creation order, and moves time to each deadline', async () => {
    const clock = new EventClock();
    const seen: string[] = [];
    clock.setTimeout(() => seen.push(`b@${clock.now() - SIM_EPOCH}`), 20);
    clock.setTimeout(() => seen.push(`a@${clock.now() - SIM_EPOCH}`), 10);
    clock.setTimeout(() => seen.push(`c@${clock.now() - SIM_EPOCH}`), 20);
    clock.setTimeout(() => seen.push(`late@${clock.now() - SIM_EPOCH}`), 50);
    await clock.runUntil(SIM_EPOCH + 30);
    expect(seen).toEqual(['a@10', 'b@20', 'c@20']);
    expect(clock.now()).toBe(SIM_EPOCH + 30);
  });

  it('repeats intervals until cancelled, and a cancelled timeout never fires', async () => {
    const clock = new EventClock();
    let ticks = 0;
    const interval = clock.setInterval(() => { ticks++; }, 100);
    const never = clock.setTimeout(() => { throw new Error('cancelled timer fired'); }, 150);
    never.cancel();
    await clock.runUntil(SIM_EPOCH + 350);
    expect(ticks).toBe(3);
    interval.cancel();
    await clock.runUntil(SIM_EPOCH + 1000);
    expect(ticks).toBe(3);
    expect(() => clock.setInterval(() => {}, 0)).toThrow(RangeError);
  });

  it('lets promise chains finish at the instant they started, before time moves on', async () => {
    const clock = new EventClock();
    const stamps: number[] = [];
    const chain = async (): Promise<void> => {
      for (let i = 0; i < 20; i++) await Promise.resolve();
      stamps.push(clock.now() - SIM_EPOCH);
    };
    clock.setTimeout(() => void chain(), 5);
    clock.setTimeout(() => stamps.push(clock.now() - SIM_EPOCH), 6);
    await clock.runUntil(SIM_EPOCH + 10);
    expect(stamps).toEqual([5, 6]);
  });

  it('waitFor runs the clock until the promise settles, and stops at its limit', async () => {
    const clock = new EventClock();
    const later = new Promise<number>((resolve) => clock.setTimeout(() => resolve(clock.now() - SIM_EPOCH), 2_000));
    await expect(clock.waitFor(later, 10_000)).resolves.toBe(2_000);
    const never = new Promise<void>(() => {});
    await expect(clock.waitFor(never, 5_000)).rejects.toThrow(RangeError);
    expect(clock.now()).toBeLessThanOrEqual(SIM_EPOCH + 7_000);
    const failing = new Promise<void>((_, reject) => clock.setTimeout(() => reject(new Error('boom')), 10));
    await expect(clock.waitFor(failing, 1_000)).rejects.toThrow('boom');
  });
});
