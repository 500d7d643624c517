import { describe } from 'vitest';
import { runCases } from '../lib.js';
import { cases } from './cases.js';
import { upcastToV3 } from './exercise.js';

describe('exercise 01: an upcaster for user.registered v3', () => runCases(cases, upcastToV3));
