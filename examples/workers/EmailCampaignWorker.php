<?php

declare(strict_types=1);

namespace Examples\Workers;

use Seiger\sTask\Models\sTaskModel;
use Seiger\sTask\Workers\BaseWorker;

/**
 * A bulk e-mail campaign (the seed's Example 3).
 *
 * send: checks that every attachment is a file uploaded to sTask (before anything is sent, so a
 *       retry cannot send twice), then "sends" to each recipient by
 *       appending to an outbox file in the storage folder, reporting
 *       progress per recipient. Invalid addresses are skipped and listed in
 *       the result summary; the task is finished with that summary.
 */
class EmailCampaignWorker extends BaseWorker
{
    use UploadedFiles;

    public function identifier(): string
    {
        return 'email_campaign';
    }

    public function scope(): string
    {
        return 'newsletter';
    }

    public function icon(): string
    {
        return '<i class="fa fa-envelope"></i>';
    }

    public function description(): string
    {
        return 'Sends a newsletter template to a list of recipients.';
    }

    public function taskSend(sTaskModel $task, array $options = []): void
    {
        $recipients = array_values((array) ($options['recipients'] ?? []));
        $subject = (string) ($options['subject'] ?? '(no subject)');
        // Attachments are files uploaded to sTask, nothing else (see UploadedFiles for why).
        foreach ((array) ($options['attachments'] ?? []) as $file) {
            try {
                self::uploadedFile(is_scalar($file) ? (string) $file : '');
            } catch (\RuntimeException $e) {
                $this->markFailed($task, 'Attachment ' . $e->getMessage());

                return;
            }
        }

        $dir = function_exists('storage_path') ? storage_path('stask/outbox') : sys_get_temp_dir() . '/stask-outbox';
        if (!is_dir($dir) && !mkdir($dir, 0775, true) && !is_dir($dir)) {
            throw new \RuntimeException("cannot create the outbox folder {$dir}");
        }
        $outbox = $dir . "/campaign_{$task->id}.txt";

        $total = count($recipients);
        $sent = 0;
        $invalid = [];
        foreach ($recipients as $i => $recipient) {
            $email = is_array($recipient) ? (string) ($recipient['email'] ?? '') : (string) $recipient;
            $name = is_array($recipient) ? (string) ($recipient['name'] ?? '') : '';
            if (filter_var($email, FILTER_VALIDATE_EMAIL) === false) {
                $invalid[] = $email;
            } else {
                file_put_contents($outbox, "To: {$name} <{$email}>\nSubject: {$subject}\n\n", FILE_APPEND | LOCK_EX);
                $sent++;
            }
            $this->pushProgress($task, [
                'processed' => $i + 1,
                'total' => $total,
                'progress' => intdiv(($i + 1) * 100, max($total, 1)),
                'message' => "Sent {$sent} of {$total} e-mails",
            ]);
        }

        // Finished by writing the row directly (as sTask's Artisan worker
        // does), because the result is a summary array, not a file path.
        $task->update([
            'status' => sTaskModel::TASK_STATUS_COMPLETED,
            'progress' => 100,
            'finished_at' => new \DateTimeImmutable(),
            'message' => "Sent {$sent} of {$total} e-mails",
            'result' => [
                'template' => $options['template'] ?? null,
                'subject' => $subject,
                'recipients' => $total,
                'sent' => $sent,
                'invalid' => $invalid,
                'outbox' => $sent > 0 ? $outbox : null,
            ],
        ]);
    }
}
