// Creates a Temporal Schedule once. Every API or worker start calls it for the
// schedules it owns; an existing schedule is left as it is (its task queue
// included), so a restart never re-creates a running deployment's schedule.
import { ScheduleAlreadyRunning, type Client, type ScheduleOptions } from '@temporalio/client';

export async function ensureSchedule(
  client: Client,
  options: ScheduleOptions,
): Promise<'created' | 'exists'> {
  try {
    await client.schedule.create(options);
    return 'created';
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) return 'exists';
    throw err;
  }
}
