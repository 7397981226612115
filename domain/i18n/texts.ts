// Every label the API shows beside a machine-readable code, in Japanese (the
// manuals' own words, ../shared/seeds) and English. One place: the API, the
// notices and a later console read them from here; codes stay what they are.
//
// Sources: the SMS history page (送信結果 / 結果詳細 of SMS errors), the wizard
// history pages (送信予約, 準備中, 実行中, 完了, エラー), メール配信コード一覧
// (説明 and 対処方法 per code) and the error reasons of the second seed.
import { DELIVERY_CODES } from '../delivery-codes';
import { ERROR_REASONS, type ErrorReason, type ErrorType } from '../error-reasons';
import { SMS_ERROR_DETAIL, SMS_PRE_ERROR_DETAIL } from '../sms-segments';

export const LANGUAGES = ['ja', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

/** One text in both languages. */
export interface Text {
  ja: string;
  en: string;
}

const t = (ja: string, en: string): Text => ({ ja, en });

/** A run's status (送信状況). */
export const RUN_STATUS_TEXT: Readonly<Record<string, Text>> = {
  reserved: t('送信予約', 'reserved'),
  preparing: t('準備中', 'preparing'),
  running: t('実行中', 'running'),
  completed: t('完了', 'completed'),
  error: t('エラー', 'error'),
  cancelled: t('キャンセル', 'cancelled'),
};

/** A single send's result (送信結果). */
export const SEND_RESULT_TEXT: Readonly<Record<string, Text>> = {
  pending: t('送信待ち', 'pending'),
  sent: t('正常', 'sent'),
  delivered: t('到達', 'delivered'),
  error: t('エラー', 'error'),
  pre_error: t('事前エラー', 'pre-error'),
};

/**
 * Result details (結果詳細) as the senders store them (English, domain/sms-segments
 * and channels/line), with the manual's Japanese. A detail not listed here (an
 * SMTP reply, a LINE API message) is shown as it was received.
 */
const SMS_PRE_ERROR_JA: Record<keyof typeof SMS_PRE_ERROR_DETAIL, string> = {
  not_mobile: '携帯電話番号の形式ではない為、送信を行いませんでした',
  short_url_failed: '短縮URLの生成に失敗した為、送信を行いませんでした',
  over_single_limit: '1通(70文字)の制限を超えた為、送信を行いませんでした',
  over_max_length: '最大文字数の660文字を超えた為、送信を行いませんでした',
  empty_body: '本文が空の為、送信を行いませんでした',
};
const SMS_ERROR_JA: Record<keyof typeof SMS_ERROR_DETAIL, string> = {
  internal_error: '内部でエラーが発生しました',
  sending_failed: 'SMSの送信に失敗しました',
  some_parts_failed: '分割した一部のSMSの送信が失敗しました',
  result_unconfirmed: '送信結果の確認ができませんでした',
  handset_unreachable: '送信先の端末が圏外か、電源が入っていなかった為、SMSの送信に失敗しました',
};

export const RESULT_DETAIL_TEXT: ReadonlyMap<string, Text> = new Map<string, Text>([
  ...Object.entries(SMS_PRE_ERROR_DETAIL).map(
    ([k, en]) => [en, t(SMS_PRE_ERROR_JA[k as keyof typeof SMS_PRE_ERROR_JA], en)] as const,
  ),
  ...Object.entries(SMS_ERROR_DETAIL).map(
    ([k, en]) => [en, t(SMS_ERROR_JA[k as keyof typeof SMS_ERROR_JA], en)] as const,
  ),
  ['delivered', t('到達', 'delivered')],
  ['accepted by LINE', t('LINEが受け付けました', 'accepted by LINE')],
  [
    'the user blocked the account after befriending it',
    t(
      '友だち追加後にLINE公式アカウントがブロックされた為、送信を行いませんでした',
      'the user blocked the account after befriending it',
    ),
  ],
  [
    'the monthly message limit is exhausted',
    t(
      '利用されているプランの追加メッセージ数の上限を超過した為、送信を行いませんでした',
      'the monthly message limit is exhausted',
    ),
  ],
]);

/** Why a lead is in a run's unsent list (未送信履歴), and 'pending' for those still to be sent. */
export const UNSENT_REASON_TEXT: Readonly<Record<string, Text>> = {
  address_not_specified: t('アドレスが未指定', 'address not specified'),
  invalid_address: t('無効なアドレス(有効フラグが無効)', 'invalid address (validity flag off)'),
  unsubscribed: t('配信停止済み', 'unsubscribed'),
  no_permission: t('送信許可なし', 'no permission'),
  blocklisted: t('ブロックリスト登録済みアドレス', 'blocklisted address'),
  quarantined: t('強制隔離中のアドレス', 'quarantined address'),
  already_sent: t('送信済み', 'already sent'),
  duplicate: t('重複', 'duplicate'),
  pending: t('送信予定', 'to be sent'),
};

/** The second seed's error labels (エラーラベル). */
const ERROR_REASON_JA: Record<ErrorReason, string> = {
  unknown_user: '不明なユーザー',
  invalid_domain: '無効なドメイン',
  unreachable: '未到達',
  invalid_account: '無効なアカウント',
  mailbox_full: 'メールボックス容量超過',
  not_connected: '未接続',
  address_not_specified: 'アドレスが未指定',
  blocklisted: 'ブロックリスト登録済みアドレス',
  quarantined: '強制隔離中のアドレス',
  duplicate: '重複',
  excluded_by_sql: 'SQL ルールによって除外',
  excluded_after_arbitration: '判別後に除外',
  poor_quality: '低品質のアドレス',
  unqualified: '未適合のアドレス',
  not_eligible: 'オファーを受ける資格がない',
  target_size_limited: 'サイズが制限されたターゲット',
  refused: '拒否',
  ignored_error: '無視されたエラー',
  control_address: '制御アドレス',
  undefined: '未定義',
};

export const ERROR_REASON_TEXT: Readonly<Record<string, Text>> = Object.fromEntries(
  (Object.keys(ERROR_REASONS) as ErrorReason[]).map((r) => [
    r,
    t(ERROR_REASON_JA[r], ERROR_REASONS[r].label),
  ]),
);

export const ERROR_TYPE_TEXT: Readonly<Record<ErrorType, Text>> = {
  hard: t('ハード', 'hard'),
  soft: t('ソフト', 'soft'),
  ignored: t('無視', 'ignored'),
  undefined: t('未定義', 'undefined'),
};

/** Machine-click reasons (domain/bot-clicks BotReason), worded after the seed's 機械的なクリック page. */
export const BOT_REASON_TEXT: Readonly<Record<string, Text>> = {
  scanner_user_agent: t(
    'セキュリティツール・ボットのユーザーエージェント',
    'the user agent of a security scanner or bot',
  ),
  too_soon_after_delivery: t('到達直後のクリック', 'clicked too soon after delivery'),
  same_url_repeated: t(
    '同じクリックカウントURLが極端に多くの回数クリックされている',
    'the same tracked URL clicked an extreme number of times',
  ),
  burst_of_urls: t(
    '短期間(1秒以内)で複数のURLに対してクリックされている',
    'several URLs clicked within one second',
  ),
  nearly_all_urls: t(
    'メール文面全体のURLが多数クリックされている',
    'nearly every URL of the message clicked',
  ),
};

/** Body parts of a tracked URL. */
export const PART_TEXT: Readonly<Record<string, Text>> = {
  text: t('テキスト本文', 'text body'),
  html: t('HTML本文', 'HTML body'),
  sms: t('SMS本文', 'SMS body'),
  line: t('LINEメッセージ', 'LINE message'),
  open: t('開封', 'open'),
  unsubscribe: t('配信停止', 'unsubscribe'),
};

export const CHANNEL_TEXT: Readonly<Record<string, Text>> = {
  email: t('メール', 'email'),
  sms: t('SMS', 'SMS'),
  line: t('LINE', 'LINE'),
};

/** Delivery codes (メール配信コード一覧): 説明 and 対処方法, Japanese from the manual. */
const SAME_AS_40000 = 'メールは送られていますので、特に対処は必要ありません。';
const RETRY_LATER = '一時的な問題の可能性もありますので、時間をおいて再送信してください。';
const SMP_RECOVERY = '当システムの復旧後、再送信してください。';
const SERVER_FAULT =
  '送信先メールサーバが正常で無い場合や当システムの不具合によりメールが正常に送信できなかった場合に発生します。' +
  '一時的な問題の可能性もありますので、時間をおいて再送信してください。障害のお知らせがある場合は、復旧後、再送信してください。';
const FIX_LOCAL_PART =
  'メールアドレス形式(@より前)が存在しないや見つからないということなので、誤りを直すことで届く可能性があります。誤りを直し、再送信ください。';
const ASK_CUSTOMER = '受信拒否の可能性が高いため、お客さまにお問合せください。';

const CODE_JA: Readonly<Record<number, { meaning: string; remedy: string }>> = {
  40000: { meaning: '正常にメール配信が完了したことを表す。', remedy: SAME_AS_40000 },
  40001: {
    meaning: 'SMTP通信でタイムアウトしたが、正常にメール配信が完了したとみなしたことを表す。',
    remedy: SAME_AS_40000,
  },
  41601: { meaning: '送信先メールサーバへの接続に失敗した事を示す。', remedy: RETRY_LATER },
  41605: {
    meaning:
      'DNS検索でMXレコードが見つからなかった(送信先メールサーバが存在しない)、DNSサーバにアクセスできなかったことを表す。',
    remedy:
      'メールアドレス形式(@より後ろ)が存在しないや見つからないということなので、誤りを直すことで届く可能性があります。誤りを直し、再送信ください。',
  },
  41606: {
    meaning: '再送を繰り返したが配信ができないまま再送期限を過ぎてしまったことを表す。',
    remedy: RETRY_LATER,
  },
  41607: {
    meaning:
      '『再送を繰り返したが配信ができないまま再送期限を過ぎてしまった』等の理由により、メール配信が中止されたことを表す。',
    remedy: RETRY_LATER,
  },
  41608: {
    meaning:
      'ファイルIOエラー(キューファイルアクセス時エラー)を表す。当システムのメールサーバの故障時に発生します。',
    remedy: SMP_RECOVERY,
  },
  41609: {
    meaning:
      'メールデータエラー(キュー内のデータ不正)を表す。当システムの不具合によりメールが正常に送信できなかった場合に発生します。',
    remedy: SMP_RECOVERY,
  },
  42500: { meaning: '文法エラー、コマンドが認識されなかったことを表す。', remedy: SERVER_FAULT },
  42501: { meaning: 'コマンドのパラメータの文法エラーを表す。', remedy: SERVER_FAULT },
  42502: { meaning: 'コマンド未サポートを表す。', remedy: SERVER_FAULT },
  42503: { meaning: 'コマンドの順序エラーを表す。', remedy: SERVER_FAULT },
  42504: { meaning: 'コマンドのパラメータ未サポートを表す。', remedy: SERVER_FAULT },
  42521: { meaning: '配信先サーバーから受信拒否されたことを表す。', remedy: ASK_CUSTOMER },
  42530: {
    meaning: '配信先サーバからのエラー応答。配信サーバへのアクセスを拒否していることを表す。',
    remedy:
      'DKIMやDMARCの認証で失敗した、大量に送信を行った等が原因となっている可能性があります。原因への対処を行ってください。',
  },
  42535: {
    meaning: '配信先サーバからのエラー応答。SMTP認証で認証に失敗したことを表す。',
    remedy: 'SMTP認証に使用する情報に誤りがある可能性があります。誤りを直し、再送信ください。',
  },
  42550: {
    meaning:
      'メールボックスが使用不能。ユーザーが存在しない、あるいは、着信拒否された可能性が高いと思われる。',
    remedy: FIX_LOCAL_PART,
  },
  42551: {
    meaning: 'ユーザーはローカルに存在しないことを表す。',
    remedy: 'メールアドレス形式(@より前)が存在しない可能性があるため、誤りを直し、再送信ください。',
  },
  42552: {
    meaning: 'システムストレージ不足であることを表す。送信先メールサーバの容量が無い場合に発生します。',
    remedy:
      '送信先メールサーバの容量が無い場合に発生しますので、時間を置いて再送信を行うまたはお客さまにお問合せください。',
  },
  42553: { meaning: 'メールボックス名に問題あり。受信拒否などをされたことを表す。', remedy: ASK_CUSTOMER },
  42554: {
    meaning:
      '送信先メールサーバのメール処理に失敗したことを表す。送信先のメールサーバに障害が発生し、メール受信中にエラーで中断された場合のエラーコードになります。',
    remedy: RETRY_LATER,
  },
  42559: {
    meaning:
      'メールデータ送信終了のピリオドの送信後、送信先メールサーバから「550」応答したことを表す。550はメールボックスが使用不能。ユーザーが存在しない、あるいは、着信拒否された可能性が高いと思われる。',
    remedy:
      'メールアドレス形式(@より前)が存在しないや見つからないということなので、誤りを直し、再送信ください。',
  },
  90000: {
    meaning: '送信先メールサーバが正常受信した後に、転送先でエラーになった事を表す。',
    remedy: '[送信者E-mailアドレス]または[エラー時返信先]に届くエラーメールの内容をご確認ください。',
  },
  91001: {
    meaning: 'メールアドレスが空欄またはメールアドレスの形式でないことを表す。',
    remedy: 'メールアドレス形式が誤っています。誤りを直して、再送信ください。',
  },
  91002: {
    meaning: 'メール送信時、DKIM、DMARCのチェックがNGだったことを表す。',
    remedy: '該当の送信ドメインの詳細画面を確認し、内容の確認を行ってください。',
  },
  91003: {
    meaning: 'メール送信時、DKIM、DMARCのチェックがNGだったことを表す。',
    remedy:
      '該当のメール送信と同じ内容で送信ドメインの登録、検証を行い、詳細画面で内容の確認を行ってください。',
  },
};

/** The remedy in English, one per code (the manual's 対処方法, translated). */
const CODE_REMEDY_EN: Readonly<Record<number, string>> = {
  40000: 'The mail was sent; nothing to do.',
  40001: 'The mail was sent; nothing to do.',
  41601: 'It may be temporary: resend after a while.',
  41605: 'The part after @ does not exist or cannot be found: correct it and resend.',
  41606: 'It may be temporary: resend after a while.',
  41607: 'It may be temporary: resend after a while.',
  41608: 'Resend after our system has recovered.',
  41609: 'Resend after our system has recovered.',
  42500:
    'The receiving server misbehaved or our system failed: resend after a while (after recovery if an outage was announced).',
  42501:
    'The receiving server misbehaved or our system failed: resend after a while (after recovery if an outage was announced).',
  42502:
    'The receiving server misbehaved or our system failed: resend after a while (after recovery if an outage was announced).',
  42503:
    'The receiving server misbehaved or our system failed: resend after a while (after recovery if an outage was announced).',
  42504:
    'The receiving server misbehaved or our system failed: resend after a while (after recovery if an outage was announced).',
  42521: 'Most likely refused by the recipient: ask the customer.',
  42530: 'DKIM or DMARC failed, or too much was sent: fix the cause.',
  42535: 'The SMTP authentication data may be wrong: correct it and resend.',
  42550: 'The part before @ does not exist or cannot be found: correct it and resend.',
  42551: 'The part before @ may not exist: correct it and resend.',
  42552: 'The receiving server is out of space: resend after a while or ask the customer.',
  42553: 'Most likely refused by the recipient: ask the customer.',
  42554: 'It may be temporary: resend after a while.',
  42559: 'The part before @ does not exist or cannot be found: correct it and resend.',
  90000: 'Read the error mail that reached the sender address or the error reply-to address.',
  91001: 'The address is malformed: correct it and resend.',
  91002: "Check the sending domain's detail page.",
  91003: 'Register and verify the sending domain as used by this mail, then check its detail page.',
};

export interface CodeText {
  meaning: Text;
  remedy: Text;
}

export const DELIVERY_CODE_TEXT: ReadonlyMap<number, CodeText> = new Map(
  Object.entries(DELIVERY_CODES).map(([code, info]) => {
    const n = Number(code);
    const ja = CODE_JA[n];
    return [
      n,
      {
        meaning: t(ja?.meaning ?? info.meaning, info.meaning),
        remedy: t(ja?.remedy ?? '', CODE_REMEDY_EN[n] ?? ''),
      },
    ] as const;
  }),
);
