import { describe } from 'vitest';
import { runCases } from '../lib.js';
import { cases } from './cases.js';
import { decideFailure } from './exercise.js';

describe('exercise 04: retry or dead-letter', () => runCases(cases, decideFailure));
