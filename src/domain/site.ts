/**
 * Sites: where meters are, named by the user, so that a site's outdoor
 * temperature serves each meter linked to it.
 *
 * @module
 */

/** Site ids: the same plain form as meter ids. */
export const SITE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** What is wrong with a site id, in words; null when it is fine. */
export function siteIdProblem(id: string): string | null {
  return SITE_ID_PATTERN.test(id)
    ? null
    : "must be 1 to 64 letters, digits, '_' or '-', starting with a letter or digit";
}
