/** Friendly names for runs created without one ("brave-otter-417"), as MLflow does. */
import { randomInt } from 'node:crypto';

const ADJECTIVES = ['amber', 'bold', 'brave', 'bright', 'calm', 'clever', 'crisp', 'eager', 'fair', 'gentle', 'glad', 'keen', 'lively', 'lucky', 'merry', 'nimble', 'polite', 'quick', 'quiet', 'rare', 'sharp', 'shy', 'sleek', 'swift', 'tidy', 'vivid', 'warm', 'wise', 'witty', 'zesty'];
const NOUNS = ['ant', 'bass', 'bear', 'crane', 'deer', 'dove', 'eel', 'finch', 'fox', 'gull', 'hare', 'hawk', 'heron', 'ibis', 'koala', 'lark', 'lynx', 'mink', 'moth', 'newt', 'otter', 'owl', 'panda', 'quail', 'robin', 'seal', 'snail', 'stork', 'toad', 'wolf'];

export function randomRunName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}-${NOUNS[randomInt(NOUNS.length)]}-${randomInt(1000)}`;
}
