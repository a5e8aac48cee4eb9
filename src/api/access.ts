/**
 * What the authenticated caller may touch, asked by the routes: the
 * request's principal (everyone's `ANONYMOUS` when authentication is off)
 * and its meter restriction. A restricted principal gets a `403` for any
 * meter or task outside its patterns, and listings and the all-task stream
 * leave those out.
 *
 * @module
 */
import type { Context } from "hono";
import { ANONYMOUS, mayUseMeter, type Principal } from "../domain/principal.ts";
import type { MeterRef } from "../domain/meter.ts";
import { ApiError } from "./errors.ts";

const principals = new WeakMap<Request, Principal>();

/** Records who sent the request (by the authentication middleware). */
export function setPrincipal(c: Context, principal: Principal): void {
  principals.set(c.req.raw, principal);
}

/** Who sent the request; `ANONYMOUS` when authentication is off. */
export function principalOf(c: Context): Principal {
  return principals.get(c.req.raw) ?? ANONYMOUS;
}

/** A `403` unless the caller may use the meter. */
export function checkMeter(c: Context, meter: Pick<MeterRef, "meter_id">): void {
  const principal = principalOf(c);
  if (mayUseMeter(principal, meter)) return;
  throw new ApiError(
    403,
    "forbidden_meter",
    `${principal.name} may use only meters matching ${
      principal.meters!.join(", ")
    }; meter "${meter.meter_id}" is not one of them.`,
  );
}

/** True when the caller may see the meter (listings and streams leave the others out). */
export function maySee(c: Context): (meter: Pick<MeterRef, "meter_id">) => boolean {
  const principal = principalOf(c);
  return (meter) => mayUseMeter(principal, meter);
}
